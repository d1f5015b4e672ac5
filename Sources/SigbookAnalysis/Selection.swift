/// Moves the k-th smallest value (0-based) of `values` to index k (quickselect, deterministic
/// median-of-three pivots), partly reordering the rest: k-th nearest distances, medians.
func select<T: Comparable>(_ values: UnsafeMutableBufferPointer<T>, _ k: Int) {
  var low = 0, high = values.count - 1
  while low < high {
    let mid = (low + high) / 2
    let pivot = max(min(values[low], values[mid]), min(max(values[low], values[mid]), values[high]))
    var i = low, j = high
    while i <= j {
      while values[i] < pivot { i += 1 }
      while values[j] > pivot { j -= 1 }
      if i <= j {
        values.swapAt(i, j)
        i += 1
        j -= 1
      }
    }
    if k <= j { high = j } else if k >= i { low = i } else { return }
  }
}
