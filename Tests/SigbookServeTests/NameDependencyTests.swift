import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookServe

/// Re-runs decided per name: a parameter change re-runs exactly the cells that read it,
/// directly or through names computed from it, and not those that read only the other names
/// of the cell that assigns it.
@Suite("Serve: re-runs by name", .serialized)
struct NameDependencyTests {
  static let workbook = """
    ```sigbook
    a = 1
    b = 2
    c = b * 10
    ```

    ```sigbook
    print(a)
    ```

    ```sigbook
    print(b)
    ```

    ```sigbook
    print(c)
    ```

    ```sigbook
    d = a + 1
    e = 7
    ```

    ```sigbook
    print(d)
    ```

    ```sigbook
    print(e)
    ```

    """

  @Test func changingOneParameterReRunsExactlyTheCellsThatReadIt() async throws {
    let served = try await Served(Self.workbook)
    _ = try await served.waitUntilIdle()
    #expect(served.runs() == [1, 1, 1, 1, 1, 1, 1])
    // b: its cell, the cell that prints it, and the one that prints c = b * 10.
    #expect(try await served.set("b", "3").status == 200)
    _ = try await served.waitUntilIdle()
    #expect(served.runs() == [2, 1, 2, 2, 1, 1, 1])
    #expect(served.live.cellStates[3].outputs == [.printed("30")])
    // a: its cell, the cell that prints it, d = a + 1 and the cell that prints d; not e's.
    #expect(try await served.set("a", "5").status == 200)
    _ = try await served.waitUntilIdle()
    #expect(served.runs() == [3, 2, 2, 2, 2, 2, 1])
    #expect(served.live.cellStates[5].outputs == [.printed("6")])
    // e: its own cell (which also computes d, to the same value) and the one that prints e.
    #expect(try await served.set("e", "8").status == 200)
    _ = try await served.waitUntilIdle()
    #expect(served.runs() == [3, 2, 2, 2, 3, 2, 2])
  }

  @Test func aCleanReassignmentEndsTheChange() async throws {
    let served = try await Served(
      """
      ```sigbook
      x = 1
      ```

      ```sigbook
      x = 5
      y = 2
      ```

      ```sigbook
      print(x)
      ```

      """)
    _ = try await served.waitUntilIdle()
    #expect(try await served.set("y", "3").status == 200)
    _ = try await served.waitUntilIdle()
    // Cell 2 assigns x whatever cell 1 said, and y is read by no one.
    #expect(served.runs() == [1, 2, 1])
  }
}
