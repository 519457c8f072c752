// @ts-check
/**
 * Formatting shared by the page's modules: numbers at the precision shown, times in a given IANA
 * time zone, ages. Plain functions without the DOM, so the unit tests run them in Node too.
 */

/** @type {Map<string, Intl.DateTimeFormat>} */
const formats = new Map();

/**
 * @param {string} timeZone
 * @param {Intl.DateTimeFormatOptions} options
 */
function formatIn(timeZone, options) {
  const key = `${timeZone}|${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", ...options });
    formats.set(key, format);
  }
  return format;
}

/**
 * The clock time of an instant in a time zone, with the zone's abbreviation: "14:03:05 CST".
 * @param {string | number | Date} instant
 * @param {string} timeZone
 */
export function clockTime(instant, timeZone) {
  const parts = formatIn(timeZone, {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "short",
  }).formatToParts(new Date(instant));
  const part = (/** @type {string} */ type) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("hour")}:${part("minute")}:${part("second")} ${part("timeZoneName")}`;
}

/**
 * Date and clock time in a time zone: "Nov 27, 14:03 CST".
 * @param {string | number | Date} instant
 * @param {string} timeZone
 */
export function dateTime(instant, timeZone) {
  const parts = formatIn(timeZone, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  }).formatToParts(new Date(instant));
  const part = (/** @type {string} */ type) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("month")} ${part("day")}, ${part("hour")}:${part("minute")} ${part("timeZoneName")}`;
}

/**
 * A duration as people say it: "12 s", "4 min", "2 h 5 min", "3 d 4 h".
 * @param {number} ms
 */
export function age(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/**
 * A measurement at the precision shown, or a dash when there is none.
 * @param {number | null | undefined} value
 * @param {number} decimals
 */
export function fixed(value, decimals) {
  return value === null || value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(decimals);
}

/**
 * A count with thousands separators: "12,345".
 * @param {number | null | undefined} value
 */
export function count(value) {
  return value === null || value === undefined ? "—" : Math.round(value).toLocaleString("en-US");
}

/**
 * A rate: one decimal below 10, whole numbers above: "3.5", "1,234".
 * @param {number | null | undefined} value
 */
export function rate(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString("en-US");
}

/**
 * The city's name from its slug: "new_york" -> "New York".
 * @param {string} slug
 */
export function cityName(slug) {
  return slug
    .split("_")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(" ");
}
