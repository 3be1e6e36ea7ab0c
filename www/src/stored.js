// Choices remembered for the next visit. Storage can be disabled or full:
// the page then works the same and only forgets.

/** A stored value, or `fallback` when there is none or storage is off. */
export function recall(key, fallback) {
  try {
    return localStorage.getItem(key) ?? fallback;
  } catch {
    return fallback;
  }
}

/** Stores a value when storage allows. */
export function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Not remembered, then.
  }
}
