/// The known name closest to a misspelt one, for `did you mean '…'?` hints.
///
/// Distances are optimal-string-alignment Damerau–Levenshtein distances (insertions, deletions,
/// substitutions and swaps of two adjacent characters each cost 1) between the lowercased names.
/// A candidate is kept when its distance is at most `max(2, name.count / 3)` and smaller than the
/// length of the name (so `x` does not suggest `k`); the closest wins, ties going to the
/// alphabetically first, so the answer never depends on the order of `candidates`.
///
/// - Parameters:
///   - name: the name the user wrote.
///   - candidates: the names that exist (functions, variables, labels, options, fields).
/// - Returns: the best candidate, or `nil` when none is close enough.
/// - Complexity: O(n·m) per candidate for names of lengths n and m.
public func nearestName(to name: String, among candidates: [String]) -> String? {
  let query = Array(name.lowercased())
  guard !query.isEmpty else { return nil }
  let threshold = max(2, query.count / 3)
  var best: (distance: Int, name: String)?
  for candidate in candidates where candidate != name {
    let target = Array(candidate.lowercased())
    // The lengths alone bound the distance from below; skip hopeless candidates cheaply.
    guard abs(target.count - query.count) <= threshold else { continue }
    let distance = editDistance(query, target)
    guard distance <= threshold, distance < query.count else { continue }
    if let current = best,
      current.distance < distance || (current.distance == distance && current.name <= candidate)
    {
      continue
    }
    best = (distance, candidate)
  }
  return best?.name
}

/// Optimal-string-alignment distance: Levenshtein plus transpositions of adjacent characters.
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  let width = b.count + 1
  // Three rows of the dynamic-programming table: two back (for swaps), one back, current.
  var previous2 = [Int](repeating: 0, count: width)
  var previous = Array(0...b.count)
  var current = [Int](repeating: 0, count: width)
  for i in 1...a.count {
    current[0] = i
    for j in 1...b.count {
      let cost = a[i - 1] == b[j - 1] ? 0 : 1
      var d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
      if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
        d = min(d, previous2[j - 2] + 1)
      }
      current[j] = d
    }
    (previous2, previous, current) = (previous, current, previous2)
  }
  return previous[b.count]
}
