// Targets and colours: how far a value is from its target (pure).

/** Progress toward the target in force, 0..1 (1: met); null without a target or a value. */
export function progress(value, target) {
  if (value === null || value === undefined || !target) {
    return null;
  }
  if (target.direction === 'at_most') {
    return value <= target.value ? 1 : Math.max(0, target.value / value);
  }
  if (target.value <= 0) {
    return 1;
  }
  return Math.min(1, Math.max(0, value / target.value));
}

/**
 * A colour band for a value against its target: 'good' (met), 'near' (within 10 % of it), 'bad',
 * or 'none' (no value, or no target to judge by: then the area view shades by value only).
 */
export function band(value, target) {
  const p = progress(value, target);
  if (p === null) {
    return 'none';
  }
  if (p >= 1) return 'good';
  return p >= 0.9 ? 'near' : 'bad';
}
