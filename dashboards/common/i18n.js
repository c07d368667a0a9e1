// Interface strings in Vietnamese (the default) and English, and number formatting (pure).

export const LANGUAGES = ['vi', 'en'];

export const STRINGS = {
  vi: {
    'title.wall': 'Trung tâm điều hành thông minh tỉnh Đắk Nông',
    'title.console': 'Bảng điều khiển trực vận hành',
    'conn.connecting': 'Đang kết nối…',
    'conn.live': 'Trực tiếp',
    'conn.reconnecting': 'Mất kết nối — đang kết nối lại…',
    'conn.unauthorized': 'Khóa API không hợp lệ hoặc đã bị thu hồi',
    'conn.revoked': 'Khóa API của màn hình này vừa bị thu hồi',
    'conn.refused': 'Máy chủ từ chối kết nối trực tiếp từ địa chỉ này (kiểm tra IOC_API_ALLOWED_ORIGINS)',
    'conn.needs_key': 'Cần khóa API',
    'key.prompt': 'Nhập khóa API (quyền read) cho màn hình này',
    'key.save': 'Lưu',
    'key.revoked': 'Khóa API của màn hình này không hợp lệ hoặc đã bị thu hồi. Hãy nhập khóa mới.',
    'key.forget': 'Đổi khóa',
    'tile.target': 'Mục tiêu',
    'tile.deadline': 'hạn',
    'tile.no_target': 'Chưa có mục tiêu',
    'tile.updated': 'Dữ liệu cách đây',
    'tile.stale': 'DỮ LIỆU CŨ',
    'tile.nodata': 'CHƯA CÓ DỮ LIỆU',
    'tile.offline': 'MẤT KẾT NỐI',
    'areas.title': 'Theo địa bàn',
    'areas.up': 'Lên cấp trên',
    'areas.subareas': 'đơn vị trực thuộc ›',
    'alerts.none': 'Không có cảnh báo',
    'alerts.page': 'trang',
    'alerts.acknowledged': 'đã xác nhận',
    'alerts.muted': 'đã tắt tiếng',
    'publisher.onboarding': 'chờ bản tin đầu',
    'publisher.maintenance': 'bảo trì',
    'severity.critical': 'Nghiêm trọng',
    'severity.major': 'Cao',
    'severity.warning': 'Cảnh báo',
    'severity.info': 'Thông tin',
    'window.5m': '5 phút',
    'window.1h': '1 giờ',
    'window.24h': '24 giờ',
    'window.today': 'hôm nay',
    'window.now': 'hiện tại',
    'console.tail': 'Luồng sự kiện trực tiếp',
    'console.filters': 'Lọc',
    'console.apply': 'Áp dụng',
    'console.pause': 'Tạm dừng',
    'console.resume': 'Tiếp tục',
    'console.sampled': 'sự kiện bị bỏ qua do giới hạn tốc độ',
    'console.publishers': 'Nguồn phát',
    'console.dead_letters': 'Thư lỗi',
    'console.alerts': 'Cảnh báo',
    'console.refresh': 'Làm mới',
    'console.replay': 'Xử lý lại',
    'console.ack': 'Xác nhận',
    'console.any': 'tất cả',
    'state.open': 'Đang mở',
    'state.acknowledged': 'Đã xác nhận',
    'state.resolved': 'Đã xử lý xong',
    'console.comment': 'Ghi chú (không bắt buộc)',
    'console.members': 'Các cảnh báo trong sự cố',
    'console.by': 'bởi',
    'console.incident': 'Sự cố',
    'col.time': 'Thời gian',
    'col.type': 'Loại',
    'col.source': 'Nguồn',
    'col.publisher': 'Nguồn phát',
    'col.area': 'Địa bàn',
    'col.detail': 'Chi tiết',
    'col.status': 'Trạng thái',
    'col.last_seen': 'Lần cuối',
    'col.completeness': 'Độ đầy đủ (1 giờ)',
    'col.reason': 'Lý do',
    'col.outcome': 'Kết quả xử lý lại',
    'col.severity': 'Mức độ',
    'col.message': 'Nội dung',
    'col.opened': 'Mở lúc',
    'col.state': 'Tình trạng',
    'col.action': 'Thao tác',
    'lang.switch': 'English',
  },
  en: {
    'title.wall': 'Đắk Nông smart-city operations center',
    'title.console': 'On-call console',
    'conn.connecting': 'Connecting…',
    'conn.live': 'Live',
    'conn.reconnecting': 'Connection lost — reconnecting…',
    'conn.unauthorized': 'The API key is invalid or was revoked',
    'conn.revoked': "This screen's API key has just been revoked",
    'conn.refused': 'The API refused the live connection from this address (check IOC_API_ALLOWED_ORIGINS)',
    'conn.needs_key': 'API key needed',
    'key.prompt': 'Enter an API key (scope read) for this screen',
    'key.save': 'Save',
    'key.revoked': "This screen's API key is invalid or was revoked. Enter a new key.",
    'key.forget': 'Change key',
    'tile.target': 'Target',
    'tile.deadline': 'by',
    'tile.no_target': 'No target',
    'tile.updated': 'Age of data:',
    'tile.stale': 'STALE',
    'tile.nodata': 'NO DATA',
    'tile.offline': 'DISCONNECTED',
    'areas.title': 'By area',
    'areas.up': 'Up one level',
    'areas.subareas': 'sub-areas ›',
    'alerts.none': 'No alerts',
    'alerts.page': 'page',
    'alerts.acknowledged': 'acknowledged',
    'alerts.muted': 'muted',
    'publisher.onboarding': 'onboarding',
    'publisher.maintenance': 'maintenance',
    'severity.critical': 'Critical',
    'severity.major': 'Major',
    'severity.warning': 'Warning',
    'severity.info': 'Info',
    'window.5m': '5 min',
    'window.1h': '1 hour',
    'window.24h': '24 hours',
    'window.today': 'today',
    'window.now': 'now',
    'console.tail': 'Live event tail',
    'console.filters': 'Filters',
    'console.apply': 'Apply',
    'console.pause': 'Pause',
    'console.resume': 'Resume',
    'console.sampled': 'events skipped by the rate limit',
    'console.publishers': 'Publishers',
    'console.dead_letters': 'Dead letters',
    'console.alerts': 'Alerts',
    'console.refresh': 'Refresh',
    'console.replay': 'Replay',
    'console.ack': 'Acknowledge',
    'console.any': 'any',
    'state.open': 'Open',
    'state.acknowledged': 'Acknowledged',
    'state.resolved': 'Resolved',
    'console.comment': 'Comment (optional)',
    'console.members': 'Alerts in this incident',
    'console.by': 'by',
    'console.incident': 'Incident',
    'col.time': 'Time',
    'col.type': 'Type',
    'col.source': 'Source',
    'col.publisher': 'Publisher',
    'col.area': 'Area',
    'col.detail': 'Detail',
    'col.status': 'Status',
    'col.last_seen': 'Last seen',
    'col.completeness': 'Completeness (1 h)',
    'col.reason': 'Reason',
    'col.outcome': 'Last replay',
    'col.severity': 'Severity',
    'col.message': 'Message',
    'col.opened': 'Opened',
    'col.state': 'State',
    'col.action': 'Action',
    'lang.switch': 'Tiếng Việt',
  },
};

// The catalog's units are English; the wall shows them in the page's language.
const UNITS_VI = {
  transactions: 'giao dịch',
  dossiers: 'hồ sơ',
  publishers: 'nguồn phát',
  'dead letters': 'thư lỗi',
  'events/s': 'sự kiện/giây',
};

export function t(lang, key) {
  return STRINGS[lang]?.[key] ?? STRINGS.vi[key] ?? key;
}

export function unitLabel(unit, lang) {
  return lang === 'vi' ? (UNITS_VI[unit] ?? unit) : unit;
}

/** A catalog entry's label in the language. */
export function label(entry, lang) {
  return lang === 'en' ? entry.label_en : entry.label_vi;
}

/** An area's name in the language. */
export function areaName(area, lang) {
  return lang === 'en' ? area.name_en : area.name_vi;
}

const LOCALES = { vi: 'vi-VN', en: 'en-GB' };

/** A value for a big tile: percentages with one decimal, money compact (tỷ/triệu, B/M), counts whole. */
export function formatValue(value, unit, lang) {
  if (value === null || value === undefined) {
    return '—';
  }
  const locale = LOCALES[lang] ?? LOCALES.vi;
  if (unit === 'VND') {
    const [divisor, suffix] =
      Math.abs(value) >= 1e9 ? [1e9, lang === 'vi' ? ' tỷ' : ' B'] : Math.abs(value) >= 1e6 ? [1e6, lang === 'vi' ? ' triệu' : ' M'] : [1, ''];
    return new Intl.NumberFormat(locale, { maximumFractionDigits: divisor === 1 ? 0 : 1 }).format(value / divisor) + suffix;
  }
  const digits = unit === '%' || unit === 'Mbit/s' || unit === 'events/s' ? 1 : 0;
  return new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

/** A local date (YYYY-MM-DD) as the language writes it. */
export function formatDate(isoDate, lang) {
  const [y, m, d] = isoDate.split('-');
  return lang === 'en' ? `${y}-${m}-${d}` : `${d}/${m}/${y}`;
}

/** A moment (RFC 3339) as the operations center reads it: local time (UTC+7), with the date when not today. */
export function formatTime(iso, lang, nowMs = Date.now()) {
  if (!iso) return '—';
  const at = new Date(iso);
  const locale = LOCALES[lang] ?? LOCALES.vi;
  const zone = 'Asia/Ho_Chi_Minh';
  const day = (d) => new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(d);
  const time = new Intl.DateTimeFormat(locale, { timeZone: zone, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(at);
  if (day(at) === day(new Date(nowMs))) return time;
  return `${formatDate(day(at), lang)} ${time}`;
}
