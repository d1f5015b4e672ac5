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
    let script = """
      import copy, json, sys
      import nbformat
      from nbclient import NotebookClient
      nb = nbformat.read(sys.argv[1], as_version=4)
      before = copy.deepcopy(nb)
      NotebookClient(nb, kernel_name="sigbook", timeout=300,
                     resources={"metadata": {"path": sys.argv[2]}}).execute()
      def outputs(nb):
          cells = []
          for cell in nb.cells:
              if cell.cell_type != "code":
                  continue
              text, figures = "", 0
              for o in cell.outputs:
                  if o.output_type == "stream" and o.name == "stdout":
                      text += o.text
                  elif o.output_type == "execute_result":
                      text += o.data["text/plain"] + "\\n"
                  elif o.output_type == "display_data":
                      figures += 1
              cells.append([text, figures])
          return cells
      print(json.dumps({"run": outputs(before), "kernel": outputs(nb)}))
      """
    let result = try RunningProcess.run(
      try #require(Self.python), ["-c", script, folder.path("small.ipynb"), folder.path("")],
      in: folder.url, environment: environment, upTo: 600)
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
