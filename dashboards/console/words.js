// The console's own words in Vietnamese and English (the shared ones are in common/i18n.js), and the
// status board's lines, worded here from each item's figures (the API's English reason is the tooltip).

const WORDS = {
  vi: {
    'status.title': 'Tình trạng hệ thống',
    'status.silent_publishers': 'Nguồn phát im lặng',
    'status.publishers_with_gaps': 'Thiếu số thứ tự',
    'status.dead_letter_burst': 'Thư lỗi (5 phút)',
    'status.engine': 'Bộ tính KPI',
    'status.engine_rebuild': 'Kỷ nguyên KPI',
    'status.ingest': 'Tiếp nhận',
    'status.websocket_clients': 'Kết nối trực tiếp',
    'status.broker': 'Broker MQTT',
    'status.notifications': 'Thông báo',
    'level.ok': 'ổn',
    'level.warning': 'cần chú ý',
    'level.problem': 'sự cố',
    'line.silent.ok': 'Mọi nguồn phát đều đang gửi tin',
    'line.silent': '{n} im lặng: {names}',
    'line.gaps.ok': 'Không thiếu số thứ tự trong 1 giờ qua',
    'line.gaps': '{n} nguồn phát thiếu số thứ tự: {names}',
    'line.burst': '{n} thư lỗi trong 5 phút',
    'line.burst.problem': '{n} thư lỗi trong 5 phút — đột biến',
    'line.engine.none': 'Không có nhịp tim từ bộ tính KPI',
    'line.engine': 'Trễ {n} giây so với dữ liệu đã lưu',
    'line.engine.stale': 'Nhịp tim đã ngừng — bộ tính KPI không chạy',
    'line.epoch.none': 'Bộ tính KPI chưa công bố kỷ nguyên',
    'line.epoch': 'Kỷ nguyên hiện tại từ {time}',
    'line.ingest.none': 'Chưa lưu sự kiện nào từ khi Redis khởi động',
    'line.ingest': 'Lô cuối được lưu {n} giây trước',
    'line.clients': '{n} kết nối trực tiếp',
    'line.broker.ok': 'Broker nhận kết nối',
    'line.broker': 'Broker không truy cập được',
    'line.notify.ok': 'Mọi thông báo đã gửi hoặc đang gửi',
    'line.notify.failed': '{n} thông báo không gửi được trong 24 giờ: {names}',
    'line.notify.waiting': 'Một thông báo chờ người nhận {n} giây',
    'line.redis': 'Không đọc được Redis',
    'pub.state.all': 'tất cả',
    'pub.state.problems': 'có sự cố',
    'pub.state.silent': 'im lặng',
    'pub.state.gaps': 'thiếu số thứ tự',
    'pub.state.dead_letters': 'có thư lỗi',
    'pub.state.online': 'trực tuyến',
    'pub.state.offline': 'ngoại tuyến',
    'pub.state.maintenance': 'bảo trì',
    'pub.state.onboarding': 'mới đăng ký',
    'pub.state.disabled': 'đã vô hiệu',
    'pub.state.active': 'hoạt động',
    'pub.filter.state': 'Tình trạng',
    'pub.filter.area': 'Địa bàn',
    'pub.filter.text': 'Tìm',
    'pub.missing': 'thiếu số thứ tự: {n}',
    'pub.letters': 'thư lỗi: {n}',
    'pub.shown': '{shown}/{total} nguồn phát',
    'pub.page.pick': 'Chọn một nguồn phát trong danh sách để xem chi tiết.',
    'pub.page.title': 'Nguồn phát {id}',
    'pub.page.gaps': 'Số thứ tự bị thiếu (24 giờ)',
    'pub.page.no_gaps': 'Không thiếu',
    'pub.page.events': 'Sự kiện gần đây',
    'pub.page.letters': 'Thư lỗi gần đây',
    'pub.page.none': 'Không có',
    'pub.page.silent_after': 'Im lặng sau (giây)',
    'pub.page.maintenance': 'Bảo trì đến',
    'pub.page.reason': 'Lý do',
    'pub.action.disable': 'Vô hiệu hóa',
    'pub.action.enable': 'Kích hoạt lại',
    'pub.action.maintenance': 'Đặt bảo trì',
    'pub.action.end_maintenance': 'Kết thúc bảo trì',
    'pub.action.silent_after': 'Lưu ngưỡng im lặng',
    'pub.action.default': 'mặc định',
    'pub.action.done': 'Đã thực hiện',
    'dl.filter.reason': 'Lý do',
    'dl.filter.publisher': 'Nguồn phát',
    'dl.filter.since': 'Từ',
    'dl.filter.until': 'Đến',
    'dl.filter.resolved': 'Cả thư đã xử lý',
    'dl.view': 'Xem',
    'dl.payload': 'Nội dung thư lỗi #{id}',
    'dl.payload.size': '{n} byte',
    'dl.payload.truncated': 'chỉ hiển thị {shown} byte đầu trong {total} byte',
    'dl.payload.hex': 'dữ liệu nhị phân (không phải UTF-8): dạng hex',
    'dl.count': 'Đếm thư khớp bộ lọc',
    'dl.count.result': '{open} thư chưa xử lý khớp bộ lọc (tổng {matching})',
    'dl.replay_all': 'Xử lý lại {n} thư',
    'dl.replay_all.done': 'Đã xử lý lại {matched}: {stored} lưu, {duplicate} trùng, {rejected} bị từ chối',
    'dl.export': 'Xuất CSV',
    'dl.exported': 'Đã xuất {n} thư ra {file}',
    'alerts.filter.state': 'Tình trạng',
    'alerts.state.open': 'đang mở',
    'alerts.state.acknowledged': 'đã xác nhận',
    'alerts.state.resolved': 'đã đóng',
    'alerts.history': 'lịch sử',
    'alerts.show_area': 'xem địa bàn',
    'alerts.show_publisher': 'xem nguồn phát',
    'col.links': 'Liên kết',
    'col.problem': 'Vấn đề',
    'col.resolved': 'Đóng lúc',
  },
  en: {
    'status.title': 'System status',
    'status.silent_publishers': 'Silent publishers',
    'status.publishers_with_gaps': 'Seq gaps',
    'status.dead_letter_burst': 'Dead letters (5 min)',
    'status.engine': 'KPI engine',
    'status.engine_rebuild': 'KPI epoch',
    'status.ingest': 'Ingest',
    'status.websocket_clients': 'Live clients',
    'status.broker': 'MQTT broker',
    'status.notifications': 'Notifications',
    'level.ok': 'ok',
    'level.warning': 'warning',
    'level.problem': 'problem',
    'line.silent.ok': 'Every enabled publisher is heard',
    'line.silent': '{n} silent: {names}',
    'line.gaps.ok': 'No seq gaps in the last hour',
    'line.gaps': '{n} with seq gaps: {names}',
    'line.burst': '{n} dead letters in 5 minutes',
    'line.burst.problem': '{n} dead letters in 5 minutes — a burst',
    'line.engine.none': 'No heartbeat from the KPI engine',
    'line.engine': '{n} s behind the stored events',
    'line.engine.stale': 'Heartbeat stopped — the KPI engine is not running',
    'line.epoch.none': 'The KPI engine has announced no epoch',
    'line.epoch': 'Current epoch since {time}',
    'line.ingest.none': 'Nothing stored since Redis started',
    'line.ingest': 'Last batch stored {n} s ago',
    'line.clients': '{n} live clients',
    'line.broker.ok': 'The broker accepts connections',
    'line.broker': 'The broker cannot be reached',
    'line.notify.ok': 'Every notification delivered or on its way',
    'line.notify.failed': '{n} notifications not delivered in the last day: {names}',
    'line.notify.waiting': 'A notification has waited {n} s for its receiver',
    'line.redis': 'Redis cannot be read',
    'pub.state.all': 'all',
    'pub.state.problems': 'with a problem',
    'pub.state.silent': 'silent',
    'pub.state.gaps': 'seq gaps',
    'pub.state.dead_letters': 'dead letters',
    'pub.state.online': 'online',
    'pub.state.offline': 'offline',
    'pub.state.maintenance': 'maintenance',
    'pub.state.onboarding': 'onboarding',
    'pub.state.disabled': 'disabled',
    'pub.state.active': 'active',
    'pub.filter.state': 'State',
    'pub.filter.area': 'Area',
    'pub.filter.text': 'Search',
    'pub.missing': 'missing seq: {n}',
    'pub.letters': 'dead letters: {n}',
    'pub.shown': '{shown} of {total} publishers',
    'pub.page.pick': 'Pick a publisher in the list to see it here.',
    'pub.page.title': 'Publisher {id}',
    'pub.page.gaps': 'Missing seq numbers (24 h)',
    'pub.page.no_gaps': 'None missing',
    'pub.page.events': 'Recent events',
    'pub.page.letters': 'Recent dead letters',
    'pub.page.none': 'None',
    'pub.page.silent_after': 'Silent after (s)',
    'pub.page.maintenance': 'Maintenance until',
    'pub.page.reason': 'Reason',
    'pub.action.disable': 'Disable',
    'pub.action.enable': 'Enable',
    'pub.action.maintenance': 'Set maintenance',
    'pub.action.end_maintenance': 'End maintenance',
    'pub.action.silent_after': 'Save silence threshold',
    'pub.action.default': 'default',
    'pub.action.done': 'Done',
    'dl.filter.reason': 'Reason',
    'dl.filter.publisher': 'Publisher',
    'dl.filter.since': 'Since',
    'dl.filter.until': 'Until',
    'dl.filter.resolved': 'Resolved too',
    'dl.view': 'View',
    'dl.payload': 'Payload of dead letter #{id}',
    'dl.payload.size': '{n} bytes',
    'dl.payload.truncated': 'only the first {shown} of {total} bytes shown',
    'dl.payload.hex': 'binary (not UTF-8): shown in hex',
    'dl.count': 'Count matching',
    'dl.count.result': '{open} open dead letters match the filter ({matching} in all)',
    'dl.replay_all': 'Replay {n}',
    'dl.replay_all.done': 'Replayed {matched}: {stored} stored, {duplicate} duplicates, {rejected} rejected',
    'dl.export': 'Export CSV',
    'dl.exported': 'Exported {n} dead letters to {file}',
    'alerts.filter.state': 'State',
    'alerts.state.open': 'open',
    'alerts.state.acknowledged': 'acknowledged',
    'alerts.state.resolved': 'resolved',
    'alerts.history': 'history',
    'alerts.show_area': 'show area',
    'alerts.show_publisher': 'show publisher',
    'col.links': 'Links',
    'col.problem': 'Problem',
    'col.resolved': 'Resolved',
  },
};

/** The console's word for `key`, with `{name}` placeholders filled from `params`. */
export function w(lang, key, params = {}) {
  const text = WORDS[lang]?.[key] ?? WORDS.vi[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

const NAMED = 4;

function names(subjects) {
  const more = subjects.length > NAMED ? ` +${subjects.length - NAMED}` : '';
  return subjects.slice(0, NAMED).join(', ') + more;
}

/** One status item's line in the language, from its name, level and figures. */
export function statusLine(item, lang, formatTime) {
  const n = item.value ?? 0;
  if (item.reason.startsWith('Redis cannot be read')) return w(lang, 'line.redis');
  switch (item.name) {
    case 'silent_publishers':
      return item.level === 'ok' ? w(lang, 'line.silent.ok') : w(lang, 'line.silent', { n, names: names(item.subjects) });
    case 'publishers_with_gaps':
      return item.level === 'ok' ? w(lang, 'line.gaps.ok') : w(lang, 'line.gaps', { n, names: names(item.subjects) });
    case 'dead_letter_burst':
      return w(lang, item.level === 'problem' ? 'line.burst.problem' : 'line.burst', { n });
    case 'engine':
      if (item.value === null) return w(lang, 'line.engine.none');
      return w(lang, item.level === 'problem' ? 'line.engine.stale' : 'line.engine', { n: Math.round(n) });
    case 'engine_rebuild':
      if (item.value === null) return w(lang, 'line.epoch.none');
      return w(lang, 'line.epoch', { time: formatTime(new Date(Date.now() - n * 1000).toISOString(), lang) });
    case 'ingest':
      return item.value === null ? w(lang, 'line.ingest.none') : w(lang, 'line.ingest', { n: Math.round(n) });
    case 'websocket_clients':
      return w(lang, 'line.clients', { n });
    case 'broker':
      return w(lang, item.level === 'ok' ? 'line.broker.ok' : 'line.broker');
    case 'notifications':
      if (item.level === 'problem') return w(lang, 'line.notify.failed', { n, names: names(item.subjects) });
      return w(lang, item.level === 'warning' ? 'line.notify.waiting' : 'line.notify.ok', { n });
    default:
      return item.reason;
  }
}
