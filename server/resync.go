package server

import (
	"context"
	"strings"
)

// resyncRooms brings this node's sockets' chat rooms back in line with the store. Joins
// and leaves made on other nodes travel as bus requests; while Redis was away they were
// lost, so a member removed elsewhere could still be in the room here (and receive what
// local members send). Run after Redis comes back.
func (s *Server) resyncRooms(ctx context.Context) {
	for userID, socks := range s.local.snapshot() {
		chatIDs, err := s.store.ChatIDsForUser(ctx, userID)
		if err != nil {
			s.log.Warn().Err(err).Str("userId", userID).Msg("could not re-check a user's chat rooms after Redis returned")
			continue
		}
		want := make(map[string]bool, len(chatIDs))
		for _, id := range chatIDs {
			want[chatRoom(id)] = true
		}
		for _, sock := range socks {
			have := map[string]bool{}
			for _, r := range sock.Rooms() {
				if strings.HasPrefix(r, "chat:") {
					have[r] = true
					if !want[r] {
						sock.Leave(r)
					}
				}
			}
			var join []string
			for r := range want {
				if !have[r] {
					join = append(join, r)
				}
			}
			if len(join) > 0 {
				sock.Join(join...)
			}
		}
	}
}
