package handlers

import (
	"context"
	"errors"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// VisibleAttachment returns upload id if userID may read its bytes: its uploader always
// may; once it is attached, so may every current member of the chat it was posted in. A
// member who leaves the chat (or is removed) loses access, as they lose the chat's
// messages; anyone else gets NOT_FOUND, the same answer as for an id that does not exist.
func (h *Handlers) VisibleAttachment(ctx context.Context, userID, id string) (*models.Attachment, error) {
	a, err := h.Store.AttachmentByID(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, utils.NotFound("upload")
	}
	if err != nil {
		return nil, err
	}
	if a.UploaderID == userID {
		return a, nil
	}
	if a.ChatID == nil {
		return nil, utils.NotFound("upload")
	}
	if _, err := h.cachedMemberChat(ctx, userID, *a.ChatID); err != nil {
		var ae *utils.AppError
		if errors.As(err, &ae) && ae.Code == utils.CodeNotFound {
			return nil, utils.NotFound("upload")
		}
		return nil, err
	}
	return a, nil
}
