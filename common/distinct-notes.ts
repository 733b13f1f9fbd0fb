/**
 * Notes stated once: the same sentence about several groups becomes one line
 * naming them (or "all groups"), in the order the notes first appear. The
 * report and the console both list fit notes and skip reasons this way.
 */

export interface DistinctNote {
  text: string;
  /** Labels of the groups it applies to, in first-seen order. */
  groups: string[];
}

export function distinctNotes(
  items: readonly { label: string; notes: readonly string[] }[],
): DistinctNote[] {
  const byText = new Map<string, DistinctNote>();
  for (const { label, notes } of items) {
    for (const text of notes) {
      const note = byText.get(text) ?? { text, groups: [] };
      if (!note.groups.includes(label)) note.groups.push(label);
      byText.set(text, note);
    }
  }
  return [...byText.values()];
}

/**
 * Whom a note applies to: the one group's label, "all N groups" when it is
 * every one of `total` (N > 1), else the labels joined by "; ". `noun` names
 * the groups ("groups", "skipped groups").
 */
export function noteScope(note: DistinctNote, total: number, noun = "groups"): string {
  if (note.groups.length === 1) return note.groups[0] || "all";
  if (note.groups.length === total) return `all ${total} ${noun}`;
  return note.groups.map((g) => g || "all").join("; ");
}

/** `label: text` for one group, `text (all 3 groups)` / `text (a; b)` for several. */
export function noteLine(note: DistinctNote, total: number, noun = "groups"): string {
  const scope = noteScope(note, total, noun);
  return note.groups.length === 1 ? `${scope}: ${note.text}` : `${note.text} (${scope})`;
}
