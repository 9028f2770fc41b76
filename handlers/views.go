package handlers

import (
	"context"
	"encoding/json"

	"github.com/parley-chat/parley/models"
)

// userView renders u for viewer. online/lastSeen are shown only when visible is true
// (the user themself, friends, chat partners); everyone else sees offline and no lastSeen.
func (h *Handlers) userView(u *models.User, visible bool) models.UserView {
	v := models.UserView{ID: u.ID, Handle: u.Handle, Name: u.Name, Image: u.Image}
	if visible {
		v.Online = h.Presence.IsOnline(u.ID)
		v.LastSeen = models.FormatTimePtr(u.LastSeen)
	}
	return v
}

// contacts returns the users whose presence viewer may see besides themself: friends and
// everyone sharing a chat.
func (h *Handlers) contacts(ctx context.Context, viewer string) (map[string]bool, error) {
	set := map[string]bool{viewer: true}
	friends, err := h.Store.FriendIDs(ctx, viewer)
	if err != nil {
		return nil, err
	}
	for _, id := range friends {
		set[id] = true
	}
	chats, err := h.Store.ChatsForUser(ctx, viewer, nil, 0)
	if err != nil {
		return nil, err
	}
	for _, c := range chats {
		for _, id := range c.Participants {
			set[id] = true
		}
	}
	return set, nil
}

// canSeePresence reports whether viewer may see target's presence.
func (h *Handlers) canSeePresence(ctx context.Context, viewer, target string) (bool, error) {
	if viewer == target {
		return true, nil
	}
	set, err := h.contacts(ctx, viewer)
	if err != nil {
		return false, err
	}
	return set[target], nil
}

// usersByID loads users into a map.
func (h *Handlers) usersByID(ctx context.Context, ids []string) (map[string]*models.User, error) {
	users, err := h.cachedUsers(ctx, uniq(ids))
	if err != nil {
		return nil, err
	}
	m := make(map[string]*models.User, len(users))
	for _, u := range users {
		m[u.ID] = u
	}
	return m, nil
}

// messageViews renders messages with their senders, quoted replies and attachments, in
// input order.
func (h *Handlers) messageViews(ctx context.Context, msgs []*models.Message) ([]models.MessageView, error) {
	return h.renderMessages(ctx, msgs, false)
}

// renderMessages is messageViews; withAttachments says the messages carry their
// attachments already (InsertMessage's result), else they are read in one query.
func (h *Handlers) renderMessages(ctx context.Context, msgs []*models.Message, withAttachments bool) ([]models.MessageView, error) {
	if len(msgs) == 0 {
		return []models.MessageView{}, nil
	}
	var replyIDs []string
	for _, m := range msgs {
		if m.ReplyToID != nil {
			replyIDs = append(replyIDs, *m.ReplyToID)
		}
	}
	replies := map[string]*models.Message{}
	if len(replyIDs) > 0 {
		found, err := h.Store.MessagesByIDs(ctx, uniq(replyIDs))
		if err != nil {
			return nil, err
		}
		for _, r := range found {
			replies[r.ID] = r
		}
	}
	senderIDs := make([]string, 0, len(msgs)+len(replies))
	for _, m := range msgs {
		senderIDs = append(senderIDs, m.SenderID)
	}
	for _, r := range replies {
		senderIDs = append(senderIDs, r.SenderID)
	}
	users, err := h.usersByID(ctx, senderIDs)
	if err != nil {
		return nil, err
	}
	var atts map[string][]models.Attachment
	if !withAttachments {
		if atts, err = h.attachmentsOf(ctx, msgs); err != nil {
			return nil, err
		}
	}
	out := make([]models.MessageView, len(msgs))
	for i, m := range msgs {
		out[i] = messageView(m, users, replies)
		if m.Deleted {
			continue
		}
		list := m.Attachments
		if !withAttachments {
			list = atts[m.ID]
		}
		out[i].Attachments = models.AttachmentViews(list, h.AttachmentURL)
	}
	return out, nil
}

// attachmentsOf reads the attachments of the messages that are not deleted.
func (h *Handlers) attachmentsOf(ctx context.Context, msgs []*models.Message) (map[string][]models.Attachment, error) {
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if !m.Deleted {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return h.Store.AttachmentsForMessages(ctx, ids)
}

func messageView(m *models.Message, users map[string]*models.User, replies map[string]*models.Message) models.MessageView {
	v := models.MessageView{
		ID: m.ID, ChatID: m.ChatID, Seq: m.Seq, Sender: userRef(users, m.SenderID), Text: m.Text,
		ClientID: m.ClientID, CreatedAt: models.FormatTime(m.CreatedAt), EditedAt: models.FormatTimePtr(m.EditedAt),
		Deleted: m.Deleted, Reactions: models.ReactionViews(m.Reactions), Mentions: models.MentionViews(m.Mentions),
		Attachments: models.AttachmentViews(nil, nil),
	}
	if m.Deleted {
		v.Text = ""
		v.Reactions = models.ReactionViews(nil)
		v.Mentions = models.MentionViews(nil)
	}
	if m.ReplyToID != nil {
		if r, ok := replies[*m.ReplyToID]; ok {
			text := r.Text
			if r.Deleted {
				text = ""
			}
			v.ReplyTo = &models.ReplyView{ID: r.ID, Seq: r.Seq, Text: text, Sender: userRef(users, r.SenderID)}
		}
	}
	return v
}

// userRef is the short sender shape; a sender whose account is gone still renders.
func userRef(users map[string]*models.User, id string) models.UserRef {
	if u, ok := users[id]; ok {
		return u.Ref()
	}
	return models.UserRef{ID: id, Handle: "", Name: "Deleted user"}
}

// chatViews renders chats for viewer: participants (visible to a chat partner), last
// message, read mark, unread count and unread mentions.
func (h *Handlers) chatViews(ctx context.Context, viewer string, chats []*models.Chat) ([]models.ChatView, error) {
	if len(chats) == 0 {
		return []models.ChatView{}, nil
	}
	ids := make([]string, len(chats))
	var people []string
	for i, c := range chats {
		ids[i] = c.ID
		people = append(people, c.Participants...)
	}
	users, err := h.usersByID(ctx, people)
	if err != nil {
		return nil, err
	}
	last, err := h.Store.LastMessages(ctx, ids)
	if err != nil {
		return nil, err
	}
	lastList := make([]*models.Message, 0, len(last))
	for _, c := range chats {
		if m, ok := last[c.ID]; ok {
			lastList = append(lastList, m)
		}
	}
	lastViews, err := h.messageViews(ctx, lastList)
	if err != nil {
		return nil, err
	}
	lastByChat := make(map[string]*models.MessageView, len(lastViews))
	for i := range lastViews {
		lastByChat[lastViews[i].ChatID] = &lastViews[i]
	}
	reads, err := h.Store.ReadSeqs(ctx, viewer, ids)
	if err != nil {
		return nil, err
	}
	// Mentions are counted only where something is unread, all chats in one store call.
	var behind map[string]int64
	for _, c := range chats {
		if c.LastSeq > reads[c.ID] {
			if behind == nil {
				behind = make(map[string]int64, len(chats))
			}
			behind[c.ID] = reads[c.ID]
		}
	}
	var mentions map[string]int
	if len(behind) > 0 {
		if mentions, err = h.Store.UnreadMentions(ctx, viewer, behind); err != nil {
			return nil, err
		}
	}
	now := h.Now()
	out := make([]models.ChatView, len(chats))
	for i, c := range chats {
		readSeq := reads[c.ID]
		unread := 0
		if c.LastSeq > readSeq {
			if unread, err = h.Store.CountUnread(ctx, c.ID, viewer, readSeq); err != nil {
				return nil, err
			}
		}
		participants := make([]models.UserView, 0, len(c.Participants))
		for _, id := range c.Participants {
			if u, ok := users[id]; ok {
				participants = append(participants, h.userView(u, true))
			}
		}
		admins := c.Admins
		if admins == nil {
			admins = []string{}
		}
		out[i] = models.ChatView{
			ID: c.ID, Type: c.Type, Name: c.Name, Participants: participants, Admins: admins,
			CreatedBy: c.CreatedBy, CreatedAt: models.FormatTime(c.CreatedAt),
			LastActivity: models.FormatTime(c.LastActivity), LastSeq: c.LastSeq,
			LastMessage: lastByChat[c.ID], UnreadCount: unread, ReadSeq: readSeq,
			UnreadMentions: mentions[c.ID], MutedUntil: models.FormatTimePtr(c.MutedFor(viewer, now)),
		}
	}
	return out, nil
}

// chatView renders one chat for viewer.
func (h *Handlers) chatView(ctx context.Context, viewer string, c *models.Chat) (models.ChatView, error) {
	views, err := h.chatViews(ctx, viewer, []*models.Chat{c})
	if err != nil {
		return models.ChatView{}, err
	}
	return views[0], nil
}

// announceChat sends event with each recipient's own view of the chat (their unread
// count and read mark differ), leaving out the acting socket.
func (h *Handlers) announceChat(ctx context.Context, c Caller, chat *models.Chat, event string, recipients []string) {
	for _, uid := range recipients {
		view, err := h.chatView(ctx, uid, chat)
		if err != nil {
			h.Log.Warn().Err(err).Str("event", event).Str("chatId", chat.ID).Msg("could not render chat for broadcast")
			continue
		}
		h.Emit.ToUser(uid, c.SocketID, event, map[string]any{"chat": view})
	}
}

func uniq(ids []string) []string {
	seen := make(map[string]struct{}, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

// renderedMessage is a message view encoded once: a new message goes into its broadcast
// and into its ack, and both carry these bytes instead of encoding the view twice.
type renderedMessage struct {
	id  string
	raw json.RawMessage
}

func renderMessage(v models.MessageView) (renderedMessage, error) {
	raw, err := json.Marshal(v)
	return renderedMessage{id: v.ID, raw: raw}, err
}

// MarshalJSON returns the encoded view.
func (r renderedMessage) MarshalJSON() ([]byte, error) { return r.raw, nil }

// RawJSON is the encoded view, for encoders that copy it without re-scanning it.
func (r renderedMessage) RawJSON() []byte { return r.raw }

// MessageID is the message's id (the server notes which message reached its sockets).
func (r renderedMessage) MessageID() string { return r.id }
