import SigbookNN

extension Catalogue {
  /// What each keyword of the language does, as `help(NAME)` and `sigbook help NAME` print it.
  static let keywordHelp: [String: String] = [
    "for": """
    for NAME in SEQUENCE { … }

    Runs the block once for each item of a list, each number of a range (one at a time, so
    0..<1000000 costs no memory) or each row of a table, with NAME bound to it.

    example:
      for n in [10, 100, 500] { print(n, accuracy(fit(mlp(784, n, 10), train), test)) }
    """,
    "in": "see 'for': for NAME in SEQUENCE { … }",
    "if": """
    if CONDITION { … } else if CONDITION { … } else { … }

    Runs the block of the first condition that is true, else the else block. A condition is
    true or false: a comparison (==, !=, <, <=, >, >=), a bool, or several joined with and,
    or, not.

    example:
      if accuracy(net, test) > 0.95 and not quick { print("good") } else { print("train longer") }
    """,
    "else": "see 'if': if CONDITION { … } else { … }",
    "and": "a and b: true when both are; b is not evaluated when a is false. See 'if'.",
    "or": "a or b: true when either is; b is not evaluated when a is true. See 'if'.",
    "not": "not a: true when a is false. See 'if'.",
    "func": """
    func NAME(positional, label: default, …) { … return VALUE }

    Defines a function of the workbook, called like the catalogue's: positional arguments
    first, then labelled ones, which take their defaults when left out. Its body sees its
    parameters, the workbook's variables and other functions; what it assigns stays inside
    it. help(NAME) shows its signature.

    example:
      func study(net, data, k: 2...10) {
        clusters = kmeans(signatures(net, data), k: k)
        return layer_report(clusters)
      }
    """,
    "return":
      "return VALUE ends a func and gives its value (a bare return gives none). See 'func'.",
    "true": "the bool true; see 'if'.",
    "false": "the bool false; see 'if'.",
  ]

  /// The help text of a name: a catalogue function, a function the session defined, or a
  /// keyword; nil when it is none of these.
  ///
  /// - Parameter formats: the model formats whose operations a reader's help lists; the
  ///   session's when not given.
  public static func help(
    for name: String, session: Session? = nil, formats: [any ModelFormat]? = nil
  ) -> String? {
    if let entry = entry(name) ?? session?.functions[name] {
      return entry.help(
        formats: formats ?? session.map { Array($0.modelFormats.values) } ?? [])
    }
    return keywordHelp[name]
  }

  /// Every name help answers for, sorted (for suggestions).
  public static func helpNames(session: Session? = nil) -> [String] {
    (names + keywordHelp.keys + (session.map { Array($0.functions.keys) } ?? [])).sorted()
  }
}
