import type { Condition } from "../api/types.js";

export type { Condition };

/**
 * Sets a condition in a list following the Kubernetes conventions: lastTransitionTime moves only when
 * the status flips; reason, message and observedGeneration always follow the latest observation.
 */
export function setCondition(
  existing: readonly Condition[] | undefined,
  next: Omit<Condition, "lastTransitionTime">,
  now: Date,
): Condition[] {
  const list = [...(existing ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? list[i] : undefined;
  const lastTransitionTime =
    prev && prev.status === next.status
      ? prev.lastTransitionTime
      : now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const merged: Condition = { ...next, lastTransitionTime };
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}
