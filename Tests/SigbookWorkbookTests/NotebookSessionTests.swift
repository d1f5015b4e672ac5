import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookWorkbook

/// Where the Jupyter kernel's session reads and writes (`SessionFactory.session(forNotebook:)`).
@Suite("The kernel's session: the notebook's figures folder") struct NotebookSessionTests {
  static let cases: [(notebook: String?, figures: String)] = [
    ("study.ipynb", "/w/study.figures"),
    ("sub/study.ipynb", "/w/study.figures"),
    ("/elsewhere/study.ipynb", "/elsewhere/study.figures"),
    // No notebook, or a session JupyterLab named by a UUID: the REPL's folder.
    (nil, "/w/sigbook.figures"),
    ("", "/w/sigbook.figures"),
    ("3f2a9c1e-0b4d-4e8f-9a7b-2c6d5e4f3a2b", "/w/sigbook.figures"),
    (".ipynb", "/w/sigbook.figures"),
  ]

  @Test(arguments: cases)
  func figuresGoBesideTheNotebook(_ c: (notebook: String?, figures: String)) throws {
    let session = try SessionFactory().session(forNotebook: c.notebook, inFolder: "/w")
    #expect(session.figuresDirectory == c.figures)
    #expect(session.baseDirectory == "/w")
  }
}
