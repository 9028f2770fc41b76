// instrumentedStore's methods: one per method of models.Store, each timing its call.
// The wrapper does not embed the interface, so a method added to models.Store fails to
// compile here until it is timed too.

package server

import (
	"context"
	"io"
	"time"

	"github.com/parley-chat/parley/models"
)

const (
	opCreateUser storeOp = iota
	opEnsureUser
	opUserByID
	opUserByHandle
	opUsersByIDs
	opSearchUsers
	opUpdateUser
	opSetLastSeen
	opCreateChat
	opDirectChat
	opChatByID
	opChatsForUser
	opChatIDsForUser
	opSetChatName
	opAddParticipants
	opRemoveParticipant
	opSetAdmin
	opSetMute
	opInsertMessage
	opMessageByID
	opMessagesByIDs
	opListMessages
	opLastMessages
	opEditMessage
	opDeleteMessage
	opReact
	opUnreact
	opCountUnread
	opUnreadMentions
	opSearchMessages
	opMarkRead
	opReadSeqs
	opCreateFriendRequest
	opFriendRequestByID
	opPendingRequest
	opResolveFriendRequest
	opPendingRequests
	opAreFriends
	opFriendIDs
	opRemoveFriend
	opBlock
	opUnblock
	opIsBlocked
	opBlockedIDs
	opCreateNotification
	opUpsertMessageNotification
	opListNotifications
	opMarkNotificationsRead
	opUnreadNotifications
	opDeleteExpiredNotifications
	opCreateAttachment
	opAttachmentByID
	opOpenAttachment
	opAttachmentsForMessages
	opSweepAttachments
	numStoreOps
)

var storeOpNames = [numStoreOps]string{
	opCreateUser:                 "CreateUser",
	opEnsureUser:                 "EnsureUser",
	opUserByID:                   "UserByID",
	opUserByHandle:               "UserByHandle",
	opUsersByIDs:                 "UsersByIDs",
	opSearchUsers:                "SearchUsers",
	opUpdateUser:                 "UpdateUser",
	opSetLastSeen:                "SetLastSeen",
	opCreateChat:                 "CreateChat",
	opDirectChat:                 "DirectChat",
	opChatByID:                   "ChatByID",
	opChatsForUser:               "ChatsForUser",
	opChatIDsForUser:             "ChatIDsForUser",
	opSetChatName:                "SetChatName",
	opAddParticipants:            "AddParticipants",
	opRemoveParticipant:          "RemoveParticipant",
	opSetAdmin:                   "SetAdmin",
	opSetMute:                    "SetMute",
	opInsertMessage:              "InsertMessage",
	opMessageByID:                "MessageByID",
	opMessagesByIDs:              "MessagesByIDs",
	opListMessages:               "ListMessages",
	opLastMessages:               "LastMessages",
	opEditMessage:                "EditMessage",
	opDeleteMessage:              "DeleteMessage",
	opReact:                      "React",
	opUnreact:                    "Unreact",
	opCountUnread:                "CountUnread",
	opUnreadMentions:             "UnreadMentions",
	opSearchMessages:             "SearchMessages",
	opMarkRead:                   "MarkRead",
	opReadSeqs:                   "ReadSeqs",
	opCreateFriendRequest:        "CreateFriendRequest",
	opFriendRequestByID:          "FriendRequestByID",
	opPendingRequest:             "PendingRequest",
	opResolveFriendRequest:       "ResolveFriendRequest",
	opPendingRequests:            "PendingRequests",
	opAreFriends:                 "AreFriends",
	opFriendIDs:                  "FriendIDs",
	opRemoveFriend:               "RemoveFriend",
	opBlock:                      "Block",
	opUnblock:                    "Unblock",
	opIsBlocked:                  "IsBlocked",
	opBlockedIDs:                 "BlockedIDs",
	opCreateNotification:         "CreateNotification",
	opUpsertMessageNotification:  "UpsertMessageNotification",
	opListNotifications:          "ListNotifications",
	opMarkNotificationsRead:      "MarkNotificationsRead",
	opUnreadNotifications:        "UnreadNotifications",
	opDeleteExpiredNotifications: "DeleteExpiredNotifications",
	opCreateAttachment:           "CreateAttachment",
	opAttachmentByID:             "AttachmentByID",
	opOpenAttachment:             "OpenAttachment",
	opAttachmentsForMessages:     "AttachmentsForMessages",
	opSweepAttachments:           "SweepAttachments",
}

func (s *instrumentedStore) CreateUser(ctx context.Context, u *models.User) error {
	defer s.observe(opCreateUser, time.Now())
	return s.inner.CreateUser(ctx, u)
}

func (s *instrumentedStore) EnsureUser(ctx context.Context, u *models.User) (*models.User, error) {
	defer s.observe(opEnsureUser, time.Now())
	return s.inner.EnsureUser(ctx, u)
}

func (s *instrumentedStore) UserByID(ctx context.Context, id string) (*models.User, error) {
	defer s.observe(opUserByID, time.Now())
	return s.inner.UserByID(ctx, id)
}

func (s *instrumentedStore) UserByHandle(ctx context.Context, handle string) (*models.User, error) {
	defer s.observe(opUserByHandle, time.Now())
	return s.inner.UserByHandle(ctx, handle)
}

func (s *instrumentedStore) UsersByIDs(ctx context.Context, ids []string) ([]*models.User, error) {
	defer s.observe(opUsersByIDs, time.Now())
	return s.inner.UsersByIDs(ctx, ids)
}

func (s *instrumentedStore) SearchUsers(ctx context.Context, prefix string, limit int) ([]*models.User, error) {
	defer s.observe(opSearchUsers, time.Now())
	return s.inner.SearchUsers(ctx, prefix, limit)
}

func (s *instrumentedStore) UpdateUser(ctx context.Context, id string, p models.UserPatch, now time.Time) (*models.User, error) {
	defer s.observe(opUpdateUser, time.Now())
	return s.inner.UpdateUser(ctx, id, p, now)
}

func (s *instrumentedStore) SetLastSeen(ctx context.Context, id string, t time.Time) error {
	defer s.observe(opSetLastSeen, time.Now())
	return s.inner.SetLastSeen(ctx, id, t)
}

func (s *instrumentedStore) CreateChat(ctx context.Context, c *models.Chat) error {
	defer s.observe(opCreateChat, time.Now())
	return s.inner.CreateChat(ctx, c)
}

func (s *instrumentedStore) DirectChat(ctx context.Context, a string, b string) (*models.Chat, error) {
	defer s.observe(opDirectChat, time.Now())
	return s.inner.DirectChat(ctx, a, b)
}

func (s *instrumentedStore) ChatByID(ctx context.Context, id string) (*models.Chat, error) {
	defer s.observe(opChatByID, time.Now())
	return s.inner.ChatByID(ctx, id)
}

func (s *instrumentedStore) ChatsForUser(ctx context.Context, userID string, before *models.ChatCursor, limit int) ([]*models.Chat, error) {
	defer s.observe(opChatsForUser, time.Now())
	return s.inner.ChatsForUser(ctx, userID, before, limit)
}

func (s *instrumentedStore) ChatIDsForUser(ctx context.Context, userID string) ([]string, error) {
	defer s.observe(opChatIDsForUser, time.Now())
	return s.inner.ChatIDsForUser(ctx, userID)
}

func (s *instrumentedStore) SetChatName(ctx context.Context, id string, name string, now time.Time) (*models.Chat, error) {
	defer s.observe(opSetChatName, time.Now())
	return s.inner.SetChatName(ctx, id, name, now)
}

func (s *instrumentedStore) AddParticipants(ctx context.Context, id string, userIDs []string, now time.Time) (*models.Chat, error) {
	defer s.observe(opAddParticipants, time.Now())
	return s.inner.AddParticipants(ctx, id, userIDs, now)
}

func (s *instrumentedStore) RemoveParticipant(ctx context.Context, id string, userID string, now time.Time) (*models.Chat, error) {
	defer s.observe(opRemoveParticipant, time.Now())
	return s.inner.RemoveParticipant(ctx, id, userID, now)
}

func (s *instrumentedStore) SetAdmin(ctx context.Context, id string, userID string, admin bool, now time.Time) (*models.Chat, error) {
	defer s.observe(opSetAdmin, time.Now())
	return s.inner.SetAdmin(ctx, id, userID, admin, now)
}

func (s *instrumentedStore) SetMute(ctx context.Context, id string, userID string, until *time.Time) (*models.Chat, error) {
	defer s.observe(opSetMute, time.Now())
	return s.inner.SetMute(ctx, id, userID, until)
}

func (s *instrumentedStore) InsertMessage(ctx context.Context, m *models.Message) (*models.Message, bool, error) {
	defer s.observe(opInsertMessage, time.Now())
	return s.inner.InsertMessage(ctx, m)
}

func (s *instrumentedStore) MessageByID(ctx context.Context, id string) (*models.Message, error) {
	defer s.observe(opMessageByID, time.Now())
	return s.inner.MessageByID(ctx, id)
}

func (s *instrumentedStore) MessagesByIDs(ctx context.Context, ids []string) ([]*models.Message, error) {
	defer s.observe(opMessagesByIDs, time.Now())
	return s.inner.MessagesByIDs(ctx, ids)
}

func (s *instrumentedStore) ListMessages(ctx context.Context, chatID string, q models.MessageQuery) ([]*models.Message, bool, error) {
	defer s.observe(opListMessages, time.Now())
	return s.inner.ListMessages(ctx, chatID, q)
}

func (s *instrumentedStore) LastMessages(ctx context.Context, chatIDs []string) (map[string]*models.Message, error) {
	defer s.observe(opLastMessages, time.Now())
	return s.inner.LastMessages(ctx, chatIDs)
}

func (s *instrumentedStore) EditMessage(ctx context.Context, id string, text string, mentions []string, at time.Time) (*models.Message, error) {
	defer s.observe(opEditMessage, time.Now())
	return s.inner.EditMessage(ctx, id, text, mentions, at)
}

func (s *instrumentedStore) DeleteMessage(ctx context.Context, id string, at time.Time) (*models.Message, error) {
	defer s.observe(opDeleteMessage, time.Now())
	return s.inner.DeleteMessage(ctx, id, at)
}

func (s *instrumentedStore) React(ctx context.Context, id string, userID string, emoji string) (*models.Message, bool, error) {
	defer s.observe(opReact, time.Now())
	return s.inner.React(ctx, id, userID, emoji)
}

func (s *instrumentedStore) Unreact(ctx context.Context, id string, userID string, emoji string) (*models.Message, bool, error) {
	defer s.observe(opUnreact, time.Now())
	return s.inner.Unreact(ctx, id, userID, emoji)
}

func (s *instrumentedStore) CountUnread(ctx context.Context, chatID string, userID string, afterSeq int64) (int, error) {
	defer s.observe(opCountUnread, time.Now())
	return s.inner.CountUnread(ctx, chatID, userID, afterSeq)
}

func (s *instrumentedStore) UnreadMentions(ctx context.Context, userID string, after map[string]int64) (map[string]int, error) {
	defer s.observe(opUnreadMentions, time.Now())
	return s.inner.UnreadMentions(ctx, userID, after)
}

func (s *instrumentedStore) SearchMessages(ctx context.Context, q models.SearchQuery) ([]*models.Message, error) {
	defer s.observe(opSearchMessages, time.Now())
	return s.inner.SearchMessages(ctx, q)
}

func (s *instrumentedStore) MarkRead(ctx context.Context, chatID string, userID string, seq int64) (int64, error) {
	defer s.observe(opMarkRead, time.Now())
	return s.inner.MarkRead(ctx, chatID, userID, seq)
}

func (s *instrumentedStore) ReadSeqs(ctx context.Context, userID string, chatIDs []string) (map[string]int64, error) {
	defer s.observe(opReadSeqs, time.Now())
	return s.inner.ReadSeqs(ctx, userID, chatIDs)
}

func (s *instrumentedStore) CreateFriendRequest(ctx context.Context, r *models.FriendRequest) error {
	defer s.observe(opCreateFriendRequest, time.Now())
	return s.inner.CreateFriendRequest(ctx, r)
}

func (s *instrumentedStore) FriendRequestByID(ctx context.Context, id string) (*models.FriendRequest, error) {
	defer s.observe(opFriendRequestByID, time.Now())
	return s.inner.FriendRequestByID(ctx, id)
}

func (s *instrumentedStore) PendingRequest(ctx context.Context, from string, to string) (*models.FriendRequest, error) {
	defer s.observe(opPendingRequest, time.Now())
	return s.inner.PendingRequest(ctx, from, to)
}

func (s *instrumentedStore) ResolveFriendRequest(ctx context.Context, id string, status string, now time.Time) (*models.FriendRequest, error) {
	defer s.observe(opResolveFriendRequest, time.Now())
	return s.inner.ResolveFriendRequest(ctx, id, status, now)
}

func (s *instrumentedStore) PendingRequests(ctx context.Context, userID string) ([]*models.FriendRequest, []*models.FriendRequest, error) {
	defer s.observe(opPendingRequests, time.Now())
	return s.inner.PendingRequests(ctx, userID)
}

func (s *instrumentedStore) AreFriends(ctx context.Context, a string, b string) (bool, error) {
	defer s.observe(opAreFriends, time.Now())
	return s.inner.AreFriends(ctx, a, b)
}

func (s *instrumentedStore) FriendIDs(ctx context.Context, userID string) ([]string, error) {
	defer s.observe(opFriendIDs, time.Now())
	return s.inner.FriendIDs(ctx, userID)
}

func (s *instrumentedStore) RemoveFriend(ctx context.Context, a string, b string) (bool, error) {
	defer s.observe(opRemoveFriend, time.Now())
	return s.inner.RemoveFriend(ctx, a, b)
}

func (s *instrumentedStore) Block(ctx context.Context, blocker string, blocked string, now time.Time) error {
	defer s.observe(opBlock, time.Now())
	return s.inner.Block(ctx, blocker, blocked, now)
}

func (s *instrumentedStore) Unblock(ctx context.Context, blocker string, blocked string) error {
	defer s.observe(opUnblock, time.Now())
	return s.inner.Unblock(ctx, blocker, blocked)
}

func (s *instrumentedStore) IsBlocked(ctx context.Context, blocker string, blocked string) (bool, error) {
	defer s.observe(opIsBlocked, time.Now())
	return s.inner.IsBlocked(ctx, blocker, blocked)
}

func (s *instrumentedStore) BlockedIDs(ctx context.Context, blocker string) ([]string, error) {
	defer s.observe(opBlockedIDs, time.Now())
	return s.inner.BlockedIDs(ctx, blocker)
}

func (s *instrumentedStore) CreateNotification(ctx context.Context, n *models.Notification) error {
	defer s.observe(opCreateNotification, time.Now())
	return s.inner.CreateNotification(ctx, n)
}

func (s *instrumentedStore) UpsertMessageNotification(ctx context.Context, userID string, chatID string, messageID string, now time.Time) (*models.Notification, error) {
	defer s.observe(opUpsertMessageNotification, time.Now())
	return s.inner.UpsertMessageNotification(ctx, userID, chatID, messageID, now)
}

func (s *instrumentedStore) ListNotifications(ctx context.Context, userID string, q models.NotificationQuery) ([]*models.Notification, error) {
	defer s.observe(opListNotifications, time.Now())
	return s.inner.ListNotifications(ctx, userID, q)
}

func (s *instrumentedStore) MarkNotificationsRead(ctx context.Context, userID string, ids []string, all bool) error {
	defer s.observe(opMarkNotificationsRead, time.Now())
	return s.inner.MarkNotificationsRead(ctx, userID, ids, all)
}

func (s *instrumentedStore) UnreadNotifications(ctx context.Context, userID string, now time.Time) (int, error) {
	defer s.observe(opUnreadNotifications, time.Now())
	return s.inner.UnreadNotifications(ctx, userID, now)
}

func (s *instrumentedStore) DeleteExpiredNotifications(ctx context.Context, cutoff time.Time) (int, error) {
	defer s.observe(opDeleteExpiredNotifications, time.Now())
	return s.inner.DeleteExpiredNotifications(ctx, cutoff)
}

// CreateAttachment's time includes receiving the upload's body.
func (s *instrumentedStore) CreateAttachment(ctx context.Context, a *models.Attachment, body io.Reader) error {
	defer s.observe(opCreateAttachment, time.Now())
	return s.inner.CreateAttachment(ctx, a, body)
}

func (s *instrumentedStore) AttachmentByID(ctx context.Context, id string) (*models.Attachment, error) {
	defer s.observe(opAttachmentByID, time.Now())
	return s.inner.AttachmentByID(ctx, id)
}

// OpenAttachment is timed to the open; the streaming that follows is the client's pace.
func (s *instrumentedStore) OpenAttachment(ctx context.Context, id string) (io.ReadCloser, error) {
	defer s.observe(opOpenAttachment, time.Now())
	return s.inner.OpenAttachment(ctx, id)
}

func (s *instrumentedStore) AttachmentsForMessages(ctx context.Context, messageIDs []string) (map[string][]models.Attachment, error) {
	defer s.observe(opAttachmentsForMessages, time.Now())
	return s.inner.AttachmentsForMessages(ctx, messageIDs)
}

func (s *instrumentedStore) SweepAttachments(ctx context.Context, unattachedBefore time.Time) (int, error) {
	defer s.observe(opSweepAttachments, time.Now())
	return s.inner.SweepAttachments(ctx, unattachedBefore)
}
