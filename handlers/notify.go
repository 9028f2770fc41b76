package handlers

import (
	"context"
	"errors"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley/models"
)

// notifier serialises notification writes per recipient and remembers, per recipient and
// chat, the highest message seq a notification already covers. Two paths notify about
// messages — message:new for recipients with no connected socket, and the sweep after a
// recipient's last socket closes (for messages that raced the disconnect) — and the memory
// keeps them from counting one message twice.
type notifier struct {
	locks   [64]sync.Mutex
	mu      sync.Mutex
	covered map[userChat]int64
}

type userChat struct{ userID, chatID string }

// maxCovered bounds the memory; past it the map starts over and the store is asked again.
const maxCovered = 100_000

func newNotifier() *notifier { return &notifier{covered: map[userChat]int64{}} }

func (n *notifier) lock(userID string) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(userID))
	m := &n.locks[h.Sum32()%uint32(len(n.locks))]
	m.Lock()
	return m.Unlock
}

func (n *notifier) coveredSeq(k userChat) (int64, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	seq, ok := n.covered[k]
	return seq, ok
}

func (n *notifier) setCovered(k userChat, seq int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.covered) >= maxCovered {
		n.covered = map[userChat]int64{}
	}
	if seq > n.covered[k] {
		n.covered[k] = seq
	}
}

// emitNotification sends notification:new to the recipient's room: it reaches any socket
// that connected since the decision to notify.
func (h *Handlers) emitNotification(userID string, n *models.Notification) {
	h.Emit.ToUser(userID, "", "notification:new", map[string]any{"notification": n.View()})
}

// notifyOffline stores a notification for userID if they have no connected socket.
func (h *Handlers) notifyOffline(ctx context.Context, userID, kind string, data map[string]any) {
	if h.Presence.Connected(userID) {
		return
	}
	now := h.Now()
	n := &models.Notification{ID: models.NewID(), UserID: userID, Type: kind, Data: data, CreatedAt: now, UpdatedAt: now}
	if err := h.Store.CreateNotification(ctx, n); err != nil {
		h.Log.Warn().Err(err).Str("type", kind).Str("userId", userID).Msg("could not store notification")
		return
	}
	h.emitNotification(userID, n)
}

// notifyChatAdded notifies users added to a chat who are offline.
func (h *Handlers) notifyChatAdded(ctx context.Context, c Caller, chat *models.Chat, added []string) {
	for _, uid := range added {
		data := map[string]any{"chatId": chat.ID, "type": chat.Type, "addedBy": c.UserID}
		if chat.Name != nil {
			data["name"] = *chat.Name
		}
		h.notifyOffline(ctx, uid, models.NotifyChatAdded, data)
	}
}

// notifyMessage notifies the chat's members with no connected socket about msg: a message
// notification, except for those who muted the chat, and a mention notification for each
// member msg mentions, muted or not.
func (h *Handlers) notifyMessage(ctx context.Context, chat *models.Chat, msg *models.Message) {
	var now time.Time
	for _, uid := range chat.Participants {
		if uid == msg.SenderID || h.Presence.Connected(uid) {
			continue
		}
		if now.IsZero() {
			now = h.Now()
		}
		if messageNotifies(chat, uid, now) {
			h.coverMessage(ctx, uid, msg)
		}
	}
	h.notifyMentions(ctx, msg, msg.Mentions)
}

// messageNotifies reports whether a message of chat may create a message notification for
// userID: not while userID has the chat muted (chat:mute). Both message notification paths
// (notifyMessage, CoverRecentMessages) ask here, so a mute holds on both. What a mute lets
// through, mentions, has a notification type of its own, whose paths (notifyMentions,
// CoverRecentMessages) do not ask.
func messageNotifies(chat *models.Chat, userID string, now time.Time) bool {
	return chat.MutedFor(userID, now) == nil
}

// notifyMentions gives each of userIDs (members msg mentions) with no connected socket a
// mention notification of msg.
func (h *Handlers) notifyMentions(ctx context.Context, msg *models.Message, userIDs []string) {
	for _, uid := range userIDs {
		if uid != msg.SenderID && !h.Presence.Connected(uid) {
			h.coverMention(ctx, uid, msg)
		}
	}
}

// coverMention stores the mention notification of userID for msg, once: its id is derived
// from the pair (models.MentionNotificationID), so any later attempt (an edit that
// mentions the user again, the sweep after a disconnect, another node) is refused by the
// store as a duplicate and notifies nobody. One per message, never collapsed.
func (h *Handlers) coverMention(ctx context.Context, userID string, msg *models.Message) {
	now := h.Now()
	n := &models.Notification{
		ID: models.MentionNotificationID(userID, msg.ID), UserID: userID, Type: models.NotifyMention,
		Data:      map[string]any{"chatId": msg.ChatID, "messageId": msg.ID, "seq": msg.Seq, "senderId": msg.SenderID},
		CreatedAt: now, UpdatedAt: now,
	}
	if err := h.Store.CreateNotification(ctx, n); errors.Is(err, models.ErrConflict) {
		return // notified of this message already
	} else if err != nil {
		h.Log.Warn().Err(err).Str("userId", userID).Str("messageId", msg.ID).Msg("could not store mention notification")
		return
	}
	h.emitNotification(userID, n)
}

// coverMessage makes sure a message notification of userID covers msg, once.
func (h *Handlers) coverMessage(ctx context.Context, userID string, msg *models.Message) {
	unlock := h.notify.lock(userID)
	defer unlock()
	k := userChat{userID, msg.ChatID}
	seq, known := h.notify.coveredSeq(k)
	if !known {
		var err error
		if seq, err = h.storedCoverage(ctx, userID, msg.ChatID); err != nil {
			h.Log.Warn().Err(err).Str("userId", userID).Msg("could not read notifications")
		}
	}
	if seq >= msg.Seq {
		return
	}
	n, err := h.Store.UpsertMessageNotification(ctx, userID, msg.ChatID, msg.ID, h.Now())
	if err != nil {
		h.Log.Warn().Err(err).Str("userId", userID).Str("chatId", msg.ChatID).Msg("could not store message notification")
		return
	}
	h.notify.setCovered(k, msg.Seq)
	h.emitNotification(userID, n)
}

// storedCoverage returns the seq of the last message the user's newest message
// notification for the chat names, or 0.
func (h *Handlers) storedCoverage(ctx context.Context, userID, chatID string) (int64, error) {
	// Read ones count too: a message a read notification named was notified already.
	list, err := h.Store.ListNotifications(ctx, userID, models.NotificationQuery{Limit: 200, Now: h.Now()})
	if err != nil {
		return 0, err
	}
	for _, n := range list {
		if n.Type != models.NotifyMessage || n.Data["chatId"] != chatID {
			continue
		}
		lastID, _ := n.Data["lastMessageId"].(string)
		m, err := h.Store.MessageByID(ctx, lastID)
		if errors.Is(err, models.ErrNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		return m.Seq, nil
	}
	return 0, nil
}

// CoverRecentMessages runs when a user's last socket has closed: messages others sent to
// their chats in the window before the close may have been broadcast to a socket that was
// already going away (or decided on while it still counted as connected), so each is
// covered by a notification (a message notification unless the chat is muted, a mention
// notification if it mentions the user) unless delivered(id) says it reached a socket well
// before the close, or a notification already covers it. This is what makes "delivered
// live or notified, never neither" hold across the race. delivered may be nil.
func (h *Handlers) CoverRecentMessages(ctx context.Context, userID string, window time.Duration, delivered func(messageID string) bool) {
	since := h.Now().Add(-window)
	chats, err := h.Store.ChatsForUser(ctx, userID, nil, 0)
	if err != nil {
		h.Log.Warn().Err(err).Str("userId", userID).Msg("could not read chats after disconnect")
		return
	}
	for _, chat := range chats {
		if chat.LastActivity.Before(since) {
			break // ordered by activity: the rest are older
		}
		msgs, _, err := h.Store.ListMessages(ctx, chat.ID, models.MessageQuery{Limit: 100})
		if err != nil {
			h.Log.Warn().Err(err).Str("chatId", chat.ID).Msg("could not read recent messages")
			continue
		}
		now := h.Now()
		for _, m := range msgs {
			if m.SenderID == userID || m.Deleted || m.CreatedAt.Before(since) || (delivered != nil && delivered(m.ID)) {
				continue
			}
			if messageNotifies(chat, userID, now) {
				h.coverMessage(ctx, userID, m)
			}
			if slices.Contains(m.Mentions, userID) {
				h.coverMention(ctx, userID, m)
			}
		}
	}
}
