import Foundation
import SigbookTestSupport
import Testing

@Suite(
  "sigbook kernel install and convert",
  .enabled(if: Binary.isBuilt, "needs the built binary (swift build)"))
struct KernelSpecTests {
  /// `install --user` writes kernel.json (this binary by its absolute path) and a 64 × 64 logo
  /// where Jupyter looks for the user's kernels; `remove --user` takes them away.
  @Test func installsAndRemovesTheKernelspec() throws {
    let folder = try TemporaryFolder()
    let environment = [
      "HOME": folder.path("home"), "JUPYTER_DATA_DIR": "", "XDG_DATA_HOME": "",
    ]
    let installed = try Binary.run(
      ["kernel", "install", "--user"], in: folder.url, environment: environment)
    #expect(installed.status == 0, "\(installed.stderr)")
    let spec = folder.path("home/.local/share/jupyter/kernels/sigbook")
    let json = try #require(
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: spec + "/kernel.json"))) as? [String: Any])
    let argv = json["argv"] as? [String] ?? []
    #expect(argv.dropFirst() == ["kernel", "--connection-file", "{connection_file}"])
    #expect(argv.first?.hasPrefix("/") == true)
    #expect(FileManager.default.isExecutableFile(atPath: argv.first ?? ""))
    #expect(json["display_name"] as? String == "sigbook")
    #expect(json["language"] as? String == "sigbook")
    #expect(json["interrupt_mode"] as? String == "message")
    let logo = [UInt8](try Data(contentsOf: URL(fileURLWithPath: spec + "/logo-64x64.png")))
    #expect(logo.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    // The IHDR chunk's width and height, big-endian, at bytes 16 and 20.
    let size = [16, 20].map { at in logo[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
    #expect(size == [64, 64])

    let removed = try Binary.run(
      ["kernel", "remove", "--user"], in: folder.url, environment: environment)
    #expect(removed.status == 0, "\(removed.stderr)")
    #expect(!FileManager.default.fileExists(atPath: spec))
  }

  /// `remove` leaves a kernelspec that is not sigbook's.
  @Test func removeLeavesAnotherKernel() throws {
    let folder = try TemporaryFolder()
    let spec = folder.path("prefix/share/jupyter/kernels/sigbook")
    try FileManager.default.createDirectory(atPath: spec, withIntermediateDirectories: true)
    try Data(#"{"argv": ["python3", "-m", "ipykernel_launcher"]}"#.utf8)
      .write(to: URL(fileURLWithPath: spec + "/kernel.json"))
    let result = try Binary.run(
      ["kernel", "remove", "--prefix", folder.path("prefix")], in: folder.url)
    #expect(result.status != 0)
    #expect(result.stderr.contains("does not hold sigbook's kernel.json"), "\(result.stderr)")
    #expect(FileManager.default.fileExists(atPath: spec + "/kernel.json"))
  }

  /// The notebook of `run --report`, converted back, gives the workbook's prose and cells.
  @Test func convertsAReportNotebookBackToAWorkbook() throws {
    let folder = try TemporaryFolder()
    let cells = ["x = 1 + 2\nprint(x)", "for i in [1, 2] {\n  print(i)\n}"]
    try folder.write(
      "w.sigbook",
      "# Title\n\nSome prose.\n\n```sigbook\n\(cells[0])\n```\n\nMore prose.\n\n```sigbook\n"
        + "\(cells[1])\n```\n")
    let run = try Binary.run(["run", "w.sigbook", "--report"], in: folder.url)
    try #require(run.status == 0, "\(run.stderr)")
    let refused = try Binary.run(["convert", "w.ipynb"], in: folder.url)
    #expect(refused.status != 0 && refused.stderr.contains("exists"), "\(refused.stderr)")
    let converted = try Binary.run(["convert", "w.ipynb", "-o", "back.sigbook"], in: folder.url)
    #expect(converted.status == 0, "\(converted.stderr)")
    #expect(
      try folder.read("back.sigbook")
        == "# Title\n\nSome prose.\n\n```sigbook\n\(cells[0])\n```\n\nMore prose.\n\n"
        + "```sigbook\n\(cells[1])\n```\n")
    let rerun = try Binary.run(["run", "back.sigbook"], in: folder.url)
    let outputs = run.stdout.split(separator: "\n").filter { !$0.hasPrefix("report: ") }
    #expect(rerun.stdout.split(separator: "\n") == outputs)
  }

  /// A notebook of another language is refused, naming the language and the kernel.
  @Test func convertRefusesAPythonNotebook() throws {
    let folder = try TemporaryFolder()
    try folder.write(
      "p.ipynb",
      #"""
      {"nbformat": 4, "nbformat_minor": 5, "cells": [{"cell_type": "code", "source": "1 + 1",
       "metadata": {}, "outputs": [], "execution_count": null}],
       "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}}}
      """#)
    let result = try Binary.run(["convert", "p.ipynb"], in: folder.url)
    #expect(result.status != 0)
    #expect(
      result.stderr.contains("'p.ipynb' is a python notebook (kernel 'python3')"),
      "\(result.stderr)")
    #expect(!folder.exists("p.sigbook"))
  }
}
