import Foundation
import Testing

@Suite("Command line") struct CommandLineTests {
  @Test func placeholder() { #expect(Bool(true)) }
}
