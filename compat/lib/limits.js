// Environment that lifts every per-user event limit, for tests about delivery or races
// rather than limits (rate-limits.test.js tests the limits themselves).
const huge = '1000000000';
export const unlimitedEvents = Object.freeze({
  RATE_LIMIT_PER_SEC: huge, RATE_LIMIT_BURST: huge,
  RATE_MESSAGES_PER_SEC: huge, RATE_MESSAGES_BURST: huge,
  RATE_FRIEND_REQUESTS_PER_SEC: huge, RATE_FRIEND_REQUESTS_BURST: huge,
  RATE_SEARCH_PER_SEC: huge, RATE_SEARCH_BURST: huge,
});
