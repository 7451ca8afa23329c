/**
 * Letters from other scripts that look like Latin letters (after Unicode's confusables list,
 * restricted to what NFKC leaves alone), folded to the Latin letter they imitate. NFKC already
 * folds fullwidth, mathematical and circled letters; this table catches Cyrillic, Greek and
 * Armenian look-alikes ("іgnоrе" with Cyrillic і, о, е). Lower case only: folding happens after
 * case folding. Greek μ and β are left out on purpose: "μg" and "β-blocker" are report text.
 */
const CONFUSABLES: Record<string, string> = {
  // Cyrillic
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ї: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  һ: 'h',
  ӏ: 'l',
  ԛ: 'q',
  ԝ: 'w',
  ү: 'y',
  ɡ: 'g',
  ո: 'n',
  // Greek
  α: 'a',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ϲ: 'c',
  ϳ: 'j',
  η: 'n',
  ω: 'w',
  // Armenian, Latin extensions and small capitals
  օ: 'o',
  ս: 'u',
  ց: 'g',
  հ: 'h',
  ı: 'i',
  ȷ: 'j',
  ɑ: 'a',
  ɩ: 'i',
  ʏ: 'y',
  ᴀ: 'a',
  ʙ: 'b',
  ᴄ: 'c',
  ᴅ: 'd',
  ᴇ: 'e',
  ɢ: 'g',
  ʜ: 'h',
  ɪ: 'i',
  ᴊ: 'j',
  ᴋ: 'k',
  ʟ: 'l',
  ᴍ: 'm',
  ɴ: 'n',
  ᴏ: 'o',
  ᴘ: 'p',
  ʀ: 'r',
  ꜱ: 's',
  ᴛ: 't',
  ᴜ: 'u',
  ᴠ: 'v',
  ᴡ: 'w',
  ᴢ: 'z',
};

const PATTERN = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'gu');

/** Replaces look-alike letters of other scripts with the Latin letter they imitate (expects lower case). */
export function foldConfusables(text: string): string {
  return text.replace(PATTERN, (c) => CONFUSABLES[c] ?? c);
}
