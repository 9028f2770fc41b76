/**
 * Parley wire protocol v1 (PROTOCOL.md): typed event maps, shapes and error codes for
 * socket.io-client v4.
 *
 *   const socket: Socket<ServerToClientEvents, ClientToServerEvents> =
 *     io(url, { auth: { token } satisfies HandshakeAuth });
 *
 * Ids are opaque strings; times are ISO-8601 strings. Kept in step with the Go wire types
 * by client/dts_test.go.
 */

// ---------------------------------------------------------------------------------------
// Errors and acknowledgements

/** Every error code of acks, connect_error and HTTP error bodies. */
export type ErrorCode =
  | "UNAUTHORIZED"
  | "VALIDATION_ERROR"
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "CONFLICT"
  | "RATE_LIMITED"
  | "UNAVAILABLE"
  | "INTERNAL"
  | "PAYLOAD_TOO_LARGE";

/** One field-level problem of a VALIDATION_ERROR. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** A failed ack. */
export interface AckError {
  success: false;
  /** Human readable. */
  error: string;
  code: ErrorCode;
  /** With VALIDATION_ERROR. */
  issues?: ValidationIssue[];
  /** With RATE_LIMITED. */
  retryAfterMs?: number;
}

/** A successful ack: `success: true` plus the event's result fields. */
export type AckSuccess<R> = { success: true } & R;

/** The single argument of every ack; narrow on `res.success`. */
export type Ack<R = EmptyResult> = AckSuccess<R> | AckError;

/** The result of events that answer only `{ success: true }`. */
export type EmptyResult = Record<never, never>;

// ---------------------------------------------------------------------------------------
// Shapes

/** `online`/`lastSeen` are real only for the user themself, friends and chat partners. */
export interface User {
  id: string;
  handle: string;
  name: string;
  image: string | null;
  online: boolean;
  lastSeen: string | null;
}

/** A message sender. */
export interface UserRef {
  id: string;
  handle: string;
  name: string;
  image: string | null;
}

export type ChatType = "direct" | "group";

export interface Chat {
  id: string;
  type: ChatType;
  /** null for direct chats. */
  name: string | null;
  participants: User[];
  /** User ids. */
  admins: string[];
  createdBy: string;
  createdAt: string;
  lastActivity: string;
  lastSeq: number;
  lastMessage: Message | null;
  /** Messages with seq > readSeq that others sent and that are not deleted. */
  unreadCount: number;
  readSeq: number;
  /** Messages with seq > readSeq that mention you (Message.mentions) and are not deleted. */
  unreadMentions: number;
  /**
   * The end of your own mute of this chat (chat:mute) while it lasts, else null. A mute
   * without an end reads "9999-12-31T23:59:59.999Z".
   */
  mutedUntil: string | null;
}

/** The quoted message of a reply. */
export interface ReplyTo {
  id: string;
  seq: number;
  text: string;
  sender: UserRef;
}

export interface Message {
  id: string;
  chatId: string;
  /** Per chat: 1, 2, 3, … without gaps, in commit order. */
  seq: number;
  sender: UserRef;
  /** "" when deleted. */
  text: string;
  replyTo: ReplyTo | null;
  clientId: string | null;
  createdAt: string;
  editedAt: string | null;
  deleted: boolean;
  /** In order of first use; [] when there are none (always for a deleted message). */
  reactions: Reaction[];
  /**
   * User ids of the chat members the text @mentions (by handle, case-insensitive, resolved
   * when the message was sent or last edited), in order of first mention, never the
   * sender; [] when there are none (always for a deleted message).
   */
  mentions: string[];
  /** In the order the sender listed them; [] when there are none (always for a deleted message). */
  attachments: Attachment[];
}

/**
 * An uploaded file (POST /uploads), as a Message carries it and as the upload answers.
 * `url` is relative to the server (`/uploads/<id>?exp=…&sig=…`) and works without a
 * token (an `<img src>`), for UPLOAD_URL_TTL_MS (5 minutes by default) from when the view
 * was rendered; every message:new, message:list, sync, … renders a fresh one. Without it,
 * GET /uploads/<id> with an `Authorization: Bearer` header serves the uploader and the
 * chat's current members.
 */
export interface Attachment {
  id: string;
  /** The file name given at upload, sanitised. */
  name: string;
  /** Bytes. */
  size: number;
  /**
   * Sniffed from the first 512 bytes by the server (never the client's Content-Type):
   * image/png, image/jpeg, image/gif and image/webp are served inline, anything else as a
   * download.
   */
  contentType: string;
  url: string;
}

/**
 * One emoji on a message. `emoji` is one emoji (a single grapheme cluster: 👍, ❤️, 👍🏽,
 * 👩‍💻, 🇫🇷, 1️⃣) or a `:shortcode:` of a-z 0-9 _ + - (at most 32 bytes with the colons).
 */
export interface Reaction {
  emoji: string;
  /** userIds.length. */
  count: number;
  /** Who reacted, in the order they did. */
  userIds: string[];
}

export type FriendRequestStatus = "pending" | "accepted" | "declined" | "canceled";

export interface FriendRequest {
  id: string;
  from: User;
  to: User;
  status: FriendRequestStatus;
  createdAt: string;
}

/** `data` of each notification type (`message` by PROTOCOL.md, the rest by handlers/). */
export interface NotificationDataMap {
  /** One per chat, collapsed while unread. */
  message: { chatId: string; count: number; lastMessageId: string };
  /** fromUserId sent the request. */
  "friend:request": { requestId: string; fromUserId: string };
  /** userId accepted your request. */
  "friend:accepted": { requestId: string; userId: string };
  /** addedBy added you to the chat. */
  "chat:added": { chatId: string; type: ChatType; addedBy: string };
  /**
   * senderId mentioned you in message messageId (seq) of chatId: one per message, never
   * collapsed, also from a chat you muted.
   */
  mention: { chatId: string; messageId: string; seq: number; senderId: string };
}

export type NotificationType = keyof NotificationDataMap;

/** A notification of one type; expires 30 days after createdAt. */
export interface NotificationOf<T extends NotificationType> {
  id: string;
  type: T;
  data: NotificationDataMap[T];
  read: boolean;
  createdAt: string;
}

/** Any notification; narrow on `type` to get its `data`. */
export type Notification = { [T in NotificationType]: NotificationOf<T> }[NotificationType];

export interface Presence {
  userId: string;
  online: boolean;
  lastSeen: string | null;
}

/** The user in a typing:start event. */
export type TypingUser = Pick<UserRef, "id" | "name" | "handle">;

// ---------------------------------------------------------------------------------------
// Client → server payloads

/** Events that take no fields: send `{}`. */
export type EmptyPayload = Record<string, never>;

export interface UserIdPayload {
  userId: string;
}

export interface UserUpdatePayload {
  name?: string;
  /** null removes the image. */
  image?: string | null;
}

export interface UserSearchPayload {
  /** Prefix of a handle or name, case-insensitive. */
  query: string;
  /** Default 20, at most 50. */
  limit?: number;
}

export interface PresenceGetPayload {
  userIds: string[];
}

export interface ChatIdPayload {
  chatId: string;
}

export interface ChatCreateDirectPayload {
  type: "direct";
  participantId: string;
}

export interface ChatCreateGroupPayload {
  type: "group";
  name: string;
  /** 1–200 other users; the creator is admin. */
  participantIds: string[];
}

export type ChatCreatePayload = ChatCreateDirectPayload | ChatCreateGroupPayload;

export interface ChatListPayload {
  /** A nextCursor from an earlier page. */
  before?: string;
  /** Default 50, at most 100. */
  limit?: number;
}

export interface ChatUpdatePayload {
  chatId: string;
  name: string;
}

export interface ChatParticipantsAddPayload {
  chatId: string;
  userIds: string[];
}

export interface ChatParticipantsRemovePayload {
  chatId: string;
  userId: string;
}

export interface ChatMutePayload {
  chatId: string;
  /** ISO-8601 time in the future; absent or null mutes until chat:unmute. */
  until?: string | null;
}

export interface ChatAdminSetPayload {
  chatId: string;
  userId: string;
  admin: boolean;
}

export interface MessageNewPayload {
  chatId: string;
  /** 1–4000 characters after trimming; may be "" when attachments are given. */
  text: string;
  /** Id of the quoted message. */
  replyTo?: string;
  /** ≤ 64 chars; resending the same clientId returns the original message. */
  clientId?: string;
  /**
   * ≤ 10 ids of your own uploads (POST /uploads) that no message holds yet. Another
   * user's upload, or one that does not exist (or expired), is NOT_FOUND; your upload
   * already attached to a message is CONFLICT; either way the message is not stored.
   */
  attachments?: string[];
}

export interface MessageListPayload {
  chatId: string;
  /** seq: messages with seq < before. */
  before?: number;
  /** seq: messages with seq > after. */
  after?: number;
  /** Default 50, at most 100. */
  limit?: number;
}

export interface MessageIdPayload {
  messageId: string;
}

export interface MessageEditPayload {
  messageId: string;
  /** As in message:new: "" only for a message with attachments. */
  text: string;
}

export interface MessageReactPayload {
  messageId: string;
  /** One emoji (a single grapheme cluster) or a `:shortcode:`; see Reaction. */
  emoji: string;
}

export interface MessageReadPayload {
  chatId: string;
  seq: number;
}

export interface MessageSearchPayload {
  /**
   * Plain text, 1–200 characters, at most 10 words: each word must start a word of the
   * message (case and accents ignored: "cafe" finds "Café", "hel" finds "hello").
   * Quotes, `*`, `-`, `:`, NEAR, AND, OR are not operators.
   */
  query: string;
  /** Only this chat (you must be a member). Without it, every chat you are in. */
  chatId?: string;
  /** A nextCursor from an earlier page. */
  before?: string;
  /** Default 20, at most 50. */
  limit?: number;
}

export interface SyncPayload {
  /** chatId → last seq the client has; chats left out return only their Chat. */
  cursors: Record<string, number>;
  /** Messages per chat; default 200, at most 500. */
  limit?: number;
}

export interface FriendRequestIdPayload {
  requestId: string;
}

export interface NotificationListPayload {
  /** A notification id (nextCursor of the previous page). */
  before?: string;
  /** At most 100. */
  limit?: number;
  unreadOnly?: boolean;
}

export interface NotificationReadIdsPayload {
  notificationIds: string[];
}

export interface NotificationReadAllPayload {
  all: true;
}

export type NotificationReadPayload = NotificationReadIdsPayload | NotificationReadAllPayload;

export interface AuthRefreshPayload {
  /** A fresh JWT for the same user. */
  token: string;
}

// ---------------------------------------------------------------------------------------
// Client → server results (the fields next to `success: true`)

export interface ChatCreateResult {
  chat: Chat;
  /** Direct chats: true when the pair's chat already existed. */
  existing?: boolean;
}

export interface ChatListResult {
  /** Newest activity first. */
  chats: Chat[];
  /** Pass back as `before`; null on the last page. */
  nextCursor: string | null;
}

export interface MessageListResult {
  /** Ascending seq. */
  messages: Message[];
  /** More messages beyond the page in the direction of travel. */
  hasMore: boolean;
}

export interface MessageSearchResult {
  /** Newest first; never deleted messages. */
  messages: Message[];
  /** Pass back as `before`; null on the last page. */
  nextCursor: string | null;
}

export interface MessageDeleteResult {
  messageId: string;
  chatId: string;
}

export interface MessageReadResult {
  chatId: string;
  readSeq: number;
}

export interface SyncResult {
  chats: Chat[];
  /** Ascending per chat, at most `limit` per chat. */
  messages: Message[];
  /** Chats with more messages: page on with message:list { after }. */
  truncated: string[];
}

export interface FriendRequestListResult {
  /** Pending only. */
  incoming: FriendRequest[];
  outgoing: FriendRequest[];
}

export interface NotificationListResult {
  notifications: Notification[];
  unreadCount: number;
  nextCursor: string | null;
}

export interface AuthRefreshResult {
  /** When the socket now expires. */
  expiresAt: string;
}

// ---------------------------------------------------------------------------------------
// Event maps

/** `socket.emit(event, payload, ack)`; the ack is called exactly once. */
export interface ClientToServerEvents {
  // Users and presence
  "user:me": (payload: EmptyPayload, ack: (res: Ack<{ user: User }>) => void) => void;
  "user:update": (payload: UserUpdatePayload, ack: (res: Ack<{ user: User }>) => void) => void;
  "user:get": (payload: UserIdPayload, ack: (res: Ack<{ user: User }>) => void) => void;
  "user:search": (payload: UserSearchPayload, ack: (res: Ack<{ users: User[] }>) => void) => void;
  "user:block": (payload: UserIdPayload, ack: (res: Ack) => void) => void;
  "user:unblock": (payload: UserIdPayload, ack: (res: Ack) => void) => void;
  "user:blocked": (payload: EmptyPayload, ack: (res: Ack<{ users: User[] }>) => void) => void;
  "presence:get": (payload: PresenceGetPayload, ack: (res: Ack<{ presence: Presence[] }>) => void) => void;

  // Chats
  "chat:create": (payload: ChatCreatePayload, ack: (res: Ack<ChatCreateResult>) => void) => void;
  "chat:list": (payload: ChatListPayload, ack: (res: Ack<ChatListResult>) => void) => void;
  "chat:get": (payload: ChatIdPayload, ack: (res: Ack<{ chat: Chat }>) => void) => void;
  /** Group admins only. */
  "chat:update": (payload: ChatUpdatePayload, ack: (res: Ack<{ chat: Chat }>) => void) => void;
  /** Group admins only. */
  "chat:participants:add": (payload: ChatParticipantsAddPayload, ack: (res: Ack<{ chat: Chat }>) => void) => void;
  /** Group admins only; not the last admin. */
  "chat:participants:remove": (payload: ChatParticipantsRemovePayload, ack: (res: Ack<{ chat: Chat }>) => void) => void;
  /** Group admins only; a group keeps at least one admin. */
  "chat:admin:set": (payload: ChatAdminSetPayload, ack: (res: Ack<{ chat: Chat }>) => void) => void;
  /** Groups only. */
  "chat:leave": (payload: ChatIdPayload, ack: (res: Ack) => void) => void;
  /** Your own mute: no message notifications from this chat while it lasts. */
  "chat:mute": (payload: ChatMutePayload, ack: (res: Ack<{ chat: Chat }>) => void) => void;
  "chat:unmute": (payload: ChatIdPayload, ack: (res: Ack<{ chat: Chat }>) => void) => void;

  // Messages
  "message:new": (payload: MessageNewPayload, ack: (res: Ack<{ message: Message }>) => void) => void;
  "message:list": (payload: MessageListPayload, ack: (res: Ack<MessageListResult>) => void) => void;
  /** Sender only. */
  "message:edit": (payload: MessageEditPayload, ack: (res: Ack<{ message: Message }>) => void) => void;
  /** Sender, or a group admin. */
  "message:delete": (payload: MessageIdPayload, ack: (res: Ack<MessageDeleteResult>) => void) => void;
  /** Read marks only move forward. */
  "message:read": (payload: MessageReadPayload, ack: (res: Ack<MessageReadResult>) => void) => void;
  /** Any member; once per emoji (again is a no-op success); at most 20 distinct emoji per message. */
  "message:react": (payload: MessageReactPayload, ack: (res: Ack<{ message: Message }>) => void) => void;
  /** Takes back your own reaction (none to take back is a no-op success). */
  "message:unreact": (payload: MessageReactPayload, ack: (res: Ack<{ message: Message }>) => void) => void;
  /** Your chats' messages whose words start with the query's words, newest first. */
  "message:search": (payload: MessageSearchPayload, ack: (res: Ack<MessageSearchResult>) => void) => void;
  /** Catch up after a reconnect. */
  sync: (payload: SyncPayload, ack: (res: Ack<SyncResult>) => void) => void;

  // Typing (ends by itself 5 s after the last typing:start)
  "typing:start": (payload: ChatIdPayload, ack: (res: Ack) => void) => void;
  "typing:stop": (payload: ChatIdPayload, ack: (res: Ack) => void) => void;

  // Friends
  /** Accepts instead when the other user already asked you. */
  "friend:request:send": (payload: UserIdPayload, ack: (res: Ack<{ request: FriendRequest }>) => void) => void;
  /** Recipient only. */
  "friend:request:accept": (payload: FriendRequestIdPayload, ack: (res: Ack<{ request: FriendRequest }>) => void) => void;
  /** Recipient only. */
  "friend:request:decline": (payload: FriendRequestIdPayload, ack: (res: Ack<{ request: FriendRequest }>) => void) => void;
  /** Sender only. */
  "friend:request:cancel": (payload: FriendRequestIdPayload, ack: (res: Ack<{ request: FriendRequest }>) => void) => void;
  "friend:request:list": (payload: EmptyPayload, ack: (res: Ack<FriendRequestListResult>) => void) => void;
  "friend:list": (payload: EmptyPayload, ack: (res: Ack<{ friends: User[] }>) => void) => void;
  "friend:remove": (payload: UserIdPayload, ack: (res: Ack) => void) => void;

  // Notifications
  "notification:list": (payload: NotificationListPayload, ack: (res: Ack<NotificationListResult>) => void) => void;
  "notification:read": (payload: NotificationReadPayload, ack: (res: Ack<{ unreadCount: number }>) => void) => void;

  // Session
  /** Hand over a fresh JWT for the same user; the socket then expires with it. */
  "auth:refresh": (payload: AuthRefreshPayload, ack: (res: Ack<AuthRefreshResult>) => void) => void;
}

/** Events the server sends; never to the socket whose own action caused them. */
export interface ServerToClientEvents {
  "message:new": (payload: { message: Message }) => void;
  "message:updated": (payload: { message: Message }) => void;
  "message:deleted": (payload: { chatId: string; messageId: string }) => void;
  "message:read": (payload: { chatId: string; userId: string; readSeq: number }) => void;
  /** The message's reactions after a message:react or message:unreact that changed them. */
  "message:reaction": (payload: { chatId: string; messageId: string; reactions: Reaction[] }) => void;

  /** Created, or you were added. */
  "chat:new": (payload: { chat: Chat }) => void;
  /** Also to your other sockets after chat:mute / chat:unmute. */
  "chat:updated": (payload: { chat: Chat }) => void;
  /** You were removed or left. */
  "chat:removed": (payload: { chatId: string }) => void;

  "typing:start": (payload: { chatId: string; user: TypingUser }) => void;
  "typing:stop": (payload: { chatId: string; userId: string }) => void;

  /** Friends and chat partners only, on a real change. */
  "presence:update": (payload: Presence) => void;

  "friend:request:new": (payload: { request: FriendRequest }) => void;
  "friend:request:accepted": (payload: { request: FriendRequest }) => void;
  "friend:request:declined": (payload: { request: FriendRequest }) => void;
  "friend:request:canceled": (payload: { request: FriendRequest }) => void;
  "friend:removed": (payload: { userId: string }) => void;

  "notification:new": (payload: { notification: Notification }) => void;

  "user:updated": (payload: { user: User }) => void;

  /** Sent just before the server disconnects a socket whose token expired. */
  "auth:expired": (payload: EmptyResult) => void;

  /**
   * Sent just before the server disconnects the socket with a Socket.IO disconnect
   * (socket.io-client does not reconnect by itself). RATE_LIMITED: the socket kept sending
   * after its events were answered RATE_LIMITED.
   */
  "session:closed": (payload: { code: ErrorCode; error: string }) => void;
}

// ---------------------------------------------------------------------------------------
// Handshake and HTTP

/** `io(url, { auth })`. */
export interface HandshakeAuth {
  /** JWT from /auth/login, /auth/register or your identity provider. */
  token: string;
}

/** `err.data` of a refused handshake (`connect_error`, `err.message === "UNAUTHORIZED"`). */
export interface ConnectErrorData {
  code: ErrorCode;
}

/** POST /auth/register body → 201 AuthResponse. */
export interface RegisterRequest {
  /** 3–32 of a-z A-Z 0-9 _ . ; unique regardless of case. */
  handle: string;
  name: string;
  /** At least 8 characters. */
  password: string;
}

/** POST /auth/login body → 200 AuthResponse; 401 for a wrong handle or password. */
export interface LoginRequest {
  handle: string;
  password: string;
}

export interface AuthResponse {
  token: string;
  /** When the token expires. */
  expiresAt: string;
  user: User;
}

/**
 * POST /uploads → 201. The request: `Authorization: Bearer <token>`, the file itself as
 * the body (not a form), optionally `?name=<file name>` (or an `X-Filename` header,
 * percent-encoded). At most MAX_UPLOAD_BYTES (10 MiB by default; beyond: 413). An upload
 * no message claims within UPLOAD_TTL_MS (24 h) is removed.
 */
export interface UploadResponse {
  attachment: Attachment;
}

/**
 * Every HTTP error body: 400, 401, 403 (a foreign Origin), 404, 409, 413, 415 (not
 * application/json on /auth, a form on /uploads), 429, 503 (storage down, or every
 * password-hashing slot busy).
 */
export interface HttpError {
  error: string;
  code: ErrorCode;
  /** With VALIDATION_ERROR (415: path "content-type"). */
  issues?: ValidationIssue[];
  /** With 429 RATE_LIMITED and a busy 503 UNAVAILABLE, beside a Retry-After header. */
  retryAfterMs?: number;
}
