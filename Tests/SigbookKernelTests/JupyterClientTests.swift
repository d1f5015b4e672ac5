import Foundation
import SigbookTestSupport
import Testing

/// The kernel as Jupyter's own Python client drives it: jupyter_kernel_test's protocol checks
/// and nbclient executing a notebook. Both need a Python with those packages
/// (`scripts/setup-kernel-tests`); without one they are skipped and say so.
@Suite(
  "sigbook kernel: Jupyter's Python client", .serialized,
  .enabled(if: Binary.isBuilt, "needs the built binary (swift build)"))
struct JupyterClientTests {
  /// A Python that imports jupyter_client, jupyter_kernel_test and nbclient:
  /// `$SIGBOOK_KERNEL_ENV/bin/python`, `/tmp/kernelenv/bin/python`, then `python3`.
  static let python: String? = {
    let environment = ProcessInfo.processInfo.environment
    let candidates =
      [environment["SIGBOOK_KERNEL_ENV"].map { $0 + "/bin/python" }, "/tmp/kernelenv/bin/python"]
      .compactMap { $0 } + ["/usr/bin/python3"]
    return candidates.first { path in
      FileManager.default.isExecutableFile(atPath: path)
        && (try? RunningProcess.run(
          path, ["-c", "import jupyter_client, jupyter_kernel_test, nbclient, nbformat"],
          upTo: 60
        ).status) == 0
    }
  }()

  static let skipReason: Comment =
    "needs jupyter_client, jupyter_kernel_test and nbclient: run scripts/setup-kernel-tests"

  /// The kernelspec installed under a temporary prefix; the environment that makes Jupyter
  /// find it first.
  func installKernel(in folder: TemporaryFolder) throws -> [String: String] {
    let installed = try Binary.run(
      ["kernel", "install", "--prefix", folder.path("prefix")],
      in: folder.url)
    try #require(installed.status == 0, "\(installed.stderr)")
    return ["JUPYTER_PATH": folder.path("prefix/share/jupyter")]
  }

  @Test(.enabled(if: python != nil, skipReason))
  func passesJupyterKernelTest() throws {
    let folder = try TemporaryFolder()
    let environment = try installKernel(in: folder)
    let script = Binary.packageRoot.appendingPathComponent("Tests/kernel/test_sigbook_kernel.py")
    let result = try RunningProcess.run(
      try #require(Self.python), [script.path, "-v"], in: folder.url, environment: environment,
      upTo: 600)
    #expect(result.status == 0, "\(result.stderr)")
    // The checks this class fills in ran; only those of features sigbook lacks are skipped.
    for test in [
      "test_execute_stdout", "test_execute_stderr", "test_completion", "test_is_complete",
      "test_inspect", "test_error", "test_execute_result", "test_display_data", "test_history",
      "test_kernel_info",
    ] {
      #expect(
        result.stderr.split(separator: "\n").contains {
          $0.hasPrefix(test + " ") && $0.hasSuffix("ok")
        }, "\(test) did not pass: \(result.stderr)")
    }
  }

  /// A Python with JupyterLab and Selenium, and Debian's Chromium with its driver, for the
  /// browser test.
  static let hasJupyterLab: Bool = {
    guard let python, FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"),
      FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
    else { return false }
    return
      (try? RunningProcess.run(python, ["-c", "import jupyterlab, selenium"], upTo: 60).status)
      == 0
  }()

  static let labSkipReason: Comment =
    "needs jupyterlab and selenium (scripts/setup-kernel-tests) and chromium, chromium-driver"

  /// A real front-end: JupyterLab in headless Chromium opens a sigbook notebook, runs its cell
  /// with the kernel, and shows the figure's SVG; the kernel also wrote it beside the notebook
  /// (JupyterLab names the notebook in `JPY_SESSION_NAME`). Screenshots and the server's log
  /// are kept in `$SIGBOOK_SCREENSHOTS` when set.
  @Test(.enabled(if: hasJupyterLab, labSkipReason))
  func jupyterLabShowsTheFigure() throws {
    let folder = try TemporaryFolder()
    let environment = try installKernel(in: folder)
    try FileManager.default.createDirectory(
      atPath: folder.path("lab"), withIntermediateDirectories: true)
    try folder.write(
      "lab/fig.ipynb",
      #"""
      {"nbformat": 4, "nbformat_minor": 5,
       "metadata": {"kernelspec": {"name": "sigbook", "display_name": "sigbook",
                                   "language": "sigbook"}},
       "cells": [{"cell_type": "code", "id": "cell-1", "metadata": {}, "outputs": [],
                  "execution_count": null,
                  "source": "print(\"drawing\")\ncurve = line(x: [1, 2, 3], y: [1, 4, 9])"}]}
      """#)
    let shots =
      ProcessInfo.processInfo.environment["SIGBOOK_SCREENSHOTS"] ?? folder.path("screenshots")
    let script = Binary.packageRoot.appendingPathComponent("Tests/kernel/browser_jupyterlab.py")
    let result = try RunningProcess.run(
      try #require(Self.python), [script.path, folder.path("lab"), shots], in: folder.url,
      environment: environment, upTo: 600)
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    let seen = try #require(
      try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
      "\(result.stdout)\n\(result.stderr)")
    #expect(seen["kernel"] as? String == "sigbook")
    #expect((seen["svg"] as? String)?.contains("<svg") == true, "\(seen)")
    #expect((seen["stdout"] as? String)?.contains("drawing") == true, "\(seen)")
    #expect(seen["figure_file"] as? Bool == true, "fig.figures/curve.svg beside the notebook")
  }

  /// The notebook `run --report` writes, executed again by nbclient with the kernel: each code
  /// cell prints the same text and shows as many figures as in the run.
  @Test(.enabled(if: python != nil, skipReason))
  func nbclientRerunsAReportNotebook() throws {
    let folder = try TemporaryFolder()
    let environment = try installKernel(in: folder)
    try folder.write(
      "small.sigbook",
      """
      # A small study

      ```sigbook
      data = synthetic(.two_gaussians, n: 200, seed: 3)
      print("inputs:", data.count)
      data
      ```

      Prose between the cells.

      ```sigbook
      net = fit(mlp(2, 8, 2), data, epochs: 3, lr: 0.1, seed: 1)
      accuracy(net, data) > 0.5
      curve = loss_plot(net)
      boundary(net, data)
      ```
      """)
    let run = try Binary.run(["run", "small.sigbook", "--report"], in: folder.url)
    try #require(run.status == 0, "\(run.stderr)")
    let script = Binary.packageRoot.appendingPathComponent("Tests/kernel/rerun_notebook.py")
    let result = try RunningProcess.run(
      try #require(Self.python), [script.path, folder.path("small.ipynb")], in: folder.url,
      environment: environment, upTo: 600)
    try #require(result.status == 0, "\(result.stderr)")
    let compared = try #require(
      try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [[Any]]])
    let ran = compared["run"] ?? [], rerun = compared["kernel"] ?? []
    #expect(ran.count == 2 && rerun.count == 2)
    for (a, b) in zip(ran, rerun) {
      #expect(a[0] as? String == b[0] as? String, "text outputs")
      #expect(a[1] as? Int == b[1] as? Int, "figures")
    }
    // Not two empty lists agreeing: the run printed and drew what the cells ask for.
    #expect((ran.first?[0] as? String)?.contains("inputs: 200") == true, "\(ran)")
    #expect(ran.last?[1] as? Int == 2, "\(ran)")
  }
}
