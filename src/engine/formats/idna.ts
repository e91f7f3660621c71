// ---- IDNA2008 (RFC 5891/5892/5893), approximated with Unicode property escapes ----
const LETTER_DIGIT = /^[\p{Ll}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u;
const IGNORABLE = /^[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}\p{White_Space}]$/u;
const MARK_START = /^\p{M}/u;
const PVALID_EXCEPTIONS = new Set([0xdf, 0x3c2, 0x6fd, 0x6fe, 0xf0b, 0x3007]);
const DISALLOWED_EXCEPTIONS = new Set([
  0x640, 0x7fa, 0x302e, 0x302f, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303b,
]);
const VIRAMAS = new Set([
  0x94d, 0x9cd, 0xa4d, 0xacd, 0xb4d, 0xbcd, 0xc4d, 0xccd, 0xd3b, 0xd3c, 0xd4d, 0xdca, 0xe3a, 0xeba, 0xf84,
  0x1039, 0x103a, 0x1714, 0x1715, 0x1734, 0x17d2, 0x1a60, 0x1b44, 0x1baa, 0x1bab, 0x1bf2, 0x1bf3, 0x2d7f,
  0xa806, 0xa82c, 0xa8c4, 0xa953, 0xa9c0, 0xaaf6, 0xabed, 0x10a3f, 0x11046, 0x11070, 0x1107f, 0x110b9,
  0x11133, 0x11134, 0x111c0, 0x11235, 0x112ea, 0x1134d, 0x11442, 0x114c2, 0x115bf, 0x1163f, 0x116b6, 0x1172b,
  0x11839, 0x1193d, 0x1193e, 0x119e0, 0x11a34, 0x11a47, 0x11a99, 0x11c3f, 0x11d44, 0x11d45, 0x11d97,
]);
const JOINING =
  /^[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Nko}\p{Script=Mongolian}\p{Script=Mandaic}\p{Script=Manichaean}\p{Script=Psalter_Pahlavi}\p{Script=Adlam}\p{Script=Phags_Pa}]$/u;
const TRANSPARENT = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const GREEK = /^\p{Script=Greek}$/u;
const HEBREW = /^\p{Script=Hebrew}$/u;
const KANA_HAN = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;
const BIDI_R = /^[\p{Script=Hebrew}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}]$/u;
const BIDI_AL = /^[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}]$/u;
const isAN = (c: number): boolean =>
  (c >= 0x600 && c <= 0x605) || (c >= 0x660 && c <= 0x669) || c === 0x66b || c === 0x66c || c === 0x6dd;
const isEN = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x6f0 && c <= 0x6f9);
const NSM = /^[\p{Mn}\p{Me}]$/u;

type Bidi = "L" | "R" | "AL" | "AN" | "EN" | "NSM" | "ON";
function bidiClass(ch: string): Bidi {
  const c = ch.codePointAt(0) as number;
  if (isAN(c)) return "AN";
  if (isEN(c)) return "EN";
  if (NSM.test(ch)) return "NSM";
  if (c === 0x2d || c === 0x200c || c === 0x200d) return "ON";
  if (BIDI_AL.test(ch)) return "AL";
  if (BIDI_R.test(ch)) return "R";
  return "L";
}

function isValidCodePoint(ch: string): boolean {
  const c = ch.codePointAt(0) as number;
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d) return true;
  if (PVALID_EXCEPTIONS.has(c)) return true;
  if (DISALLOWED_EXCEPTIONS.has(c)) return false;
  if (c === 0xb7 || c === 0x375 || c === 0x5f3 || c === 0x5f4 || c === 0x30fb || c === 0x200c || c === 0x200d)
    return true; // contextual, checked per label
  if (isAN(c) || (c >= 0x6f0 && c <= 0x6f9)) return true;
  if (c >= 0x1100 && c <= 0x11ff) return false; // old Hangul Jamo
  if (c < 0x80) return false;
  if (IGNORABLE.test(ch)) return false;
  if (ch.normalize("NFKC").toLowerCase() !== ch) return false;
  return LETTER_DIGIT.test(ch);
}

/** Validates one U-label (Unicode label), RFC 5891 §5.4 plus contextual rules of RFC 5892. */
/** True when a non-ASCII label is a valid IDNA2008 U-label (with the Bidi rule in an RTL domain). */
export function isULabel(label: string, rtlDomain: boolean): boolean {
  if (label.length === 0) return false;
  if (label.normalize("NFC") !== label) return false;
  if (label.startsWith("-") || label.endsWith("-")) return false;
  if (label.slice(2, 4) === "--") return false;
  if (MARK_START.test(label)) return false;
  const chars = Array.from(label);
  let hasArabicIndic = false;
  let hasExtArabicIndic = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    const c = ch.codePointAt(0) as number;
    if (!isValidCodePoint(ch)) return false;
    const prev = chars[i - 1];
    const next = chars[i + 1];
    switch (c) {
      case 0x200d:
        if (!prev || !VIRAMAS.has(prev.codePointAt(0) as number)) return false;
        break;
      case 0x200c: {
        if (prev && VIRAMAS.has(prev.codePointAt(0) as number)) break;
        let j = i - 1;
        while (j >= 0 && TRANSPARENT.test(chars[j] as string)) j--;
        let k = i + 1;
        while (k < chars.length && TRANSPARENT.test(chars[k] as string)) k++;
        if (
          j < 0 ||
          k >= chars.length ||
          !JOINING.test(chars[j] as string) ||
          !JOINING.test(chars[k] as string)
        )
          return false;
        break;
      }
      case 0xb7:
        if (prev !== "l" || next !== "l") return false;
        break;
      case 0x375:
        if (!next || !GREEK.test(next)) return false;
        break;
      case 0x5f3:
      case 0x5f4:
        if (!prev || !HEBREW.test(prev)) return false;
        break;
      case 0x30fb:
        if (!KANA_HAN.test(label.replace(/\u30fb/g, ""))) return false;
        break;
      default:
        if (c >= 0x660 && c <= 0x669) hasArabicIndic = true;
        if (c >= 0x6f0 && c <= 0x6f9) hasExtArabicIndic = true;
    }
  }
  if (hasArabicIndic && hasExtArabicIndic) return false;
  if (rtlDomain && !bidiRule(chars)) return false;
  return true;
}

/** RFC 5893 Bidi rule for one label, as code points. */
export function bidiRule(chars: string[]): boolean {
  const classes = chars.map(bidiClass);
  const first = classes[0];
  let end = classes.length - 1;
  while (end > 0 && classes[end] === "NSM") end--;
  const last = classes[end];
  if (first === "R" || first === "AL") {
    let en = false;
    let an = false;
    for (const c of classes) {
      if (c === "L") return false;
      if (c === "EN") en = true;
      if (c === "AN") an = true;
    }
    if (en && an) return false;
    return last === "R" || last === "AL" || last === "EN" || last === "AN";
  }
  if (first !== "L") return false;
  for (const c of classes) if (c === "R" || c === "AL" || c === "AN") return false;
  return last === "L" || last === "EN";
}

/** True when a label has a right-to-left character. */
export const hasRtl = (label: string): boolean =>
  Array.from(label).some((ch) => {
    const b = bidiClass(ch);
    return b === "R" || b === "AL" || b === "AN";
  });
