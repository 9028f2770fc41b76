package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/parley-chat/parley/models"
)

// The sweep is the store's background maintenance, a goroutine owned by the Store and
// stopped by Close. Each pass is idempotent and safe to run on several nodes at once
// (every step is a conditional or duplicate-tolerant write), so no leader is needed.
// One pass:
//   - deletes expired notifications, where the server refused the TTL index;
//   - finishes message claims abandoned for longer than RepairGrace (messages.go);
//   - completes acceptances whose friendship write was interrupted (friends.go);
//   - fills seq holes older than RepairGrace in every chat that reserved a seq since
//     the previous pass (RepairSeqHoles).

// sweepBatch bounds the work of one pass per kind; the rest waits for the next pass.
const sweepBatch = 500

// seqCheckpointID names the parley_meta document holding the seq repair's progress.
const seqCheckpointID = "seqRepair"

func (s *Store) sweepLoop(interval time.Duration) {
	defer close(s.sweepDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { // Close must not wait for a pass stuck on a dead server
			select {
			case <-s.stop:
				cancel()
			case <-stopped:
			}
		}()
		if err := s.Sweep(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Warn().Err(err).Msg("store sweep failed; retrying at the next interval")
		}
		close(stopped)
		cancel()
	}
}

// Sweep runs one maintenance pass now (see above). It returns the first error; the steps
// after a failed one still run.
func (s *Store) Sweep(ctx context.Context) error {
	now := time.Now()
	var errs []error
	if !s.caps.ttl {
		if n, err := s.DeleteExpiredNotifications(ctx, now.Add(-models.NotificationTTL)); err != nil {
			errs = append(errs, err)
		} else if n > 0 {
			s.log.Debug().Int("deleted", n).Msg("sweep deleted expired notifications")
		}
	}
	if err := s.finishAbandonedClaims(ctx, now); err != nil {
		errs = append(errs, err)
	}
	if err := s.completeAcceptances(ctx, now); err != nil {
		errs = append(errs, err)
	}
	if err := s.repairRecentChats(ctx, now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// finishAbandonedClaims takes over message claims older than RepairGrace and gives
// them their seq (or removes them when their chat does not exist).
func (s *Store) finishAbandonedClaims(ctx context.Context, now time.Time) error {
	cur, err := s.messages.Find(ctx, bson.D{{Key: "pendingAt", Value: bson.D{{Key: "$lt", Value: ms(now.Add(-s.opts.RepairGrace))}}}},
		options.Find().SetLimit(sweepBatch))
	if err != nil {
		return mapErr(err)
	}
	var docs []messageDoc
	if err := cur.All(ctx, &docs); err != nil {
		return mapErr(err)
	}
	for i := range docs {
		d := &docs[i]
		_, _, err := s.awaitOriginal(ctx, d) // takes the stale claim over and finishes it
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return err
		}
	}
	return nil
}

// completeAcceptances finishes accepted friend requests whose friendship write did not
// happen (the process died between the two writes of ResolveFriendRequest).
func (s *Store) completeAcceptances(ctx context.Context, now time.Time) error {
	cur, err := s.requests.Find(ctx, bson.D{
		{Key: "friendshipPending", Value: true},
		{Key: "updatedAt", Value: bson.D{{Key: "$lt", Value: ms(now.Add(-s.opts.RepairGrace))}}},
	}, options.Find().SetLimit(sweepBatch))
	if err != nil {
		return mapErr(err)
	}
	var docs []friendRequestDoc
	if err := cur.All(ctx, &docs); err != nil {
		return mapErr(err)
	}
	for i := range docs {
		if err := s.completeFriendship(ctx, &docs[i]); err != nil {
			return err
		}
	}
	return nil
}

// repairRecentChats runs RepairSeqHoles on every chat that reserved a seq after the
// checkpoint, then moves the checkpoint to now - RepairGrace: holes reserved before that
// were all old enough to be filled by this pass, and a chat with a later reservation has
// a later lastSeqAt, so the next pass looks at it again.
func (s *Store) repairRecentChats(ctx context.Context, now time.Time) error {
	var cp struct {
		CheckedUntil time.Time `bson:"checkedUntil"`
	}
	err := s.meta.FindOne(ctx, bson.D{{Key: "_id", Value: seqCheckpointID}}).Decode(&cp)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return mapErr(err)
	}
	upTo := ms(now.Add(-s.opts.RepairGrace))
	chats, err := findIDs(ctx, s.chats, bson.D{{Key: "lastSeqAt", Value: bson.D{{Key: "$gt", Value: cp.CheckedUntil}}}}, 0)
	if err != nil {
		return err
	}
	for _, id := range chats {
		if _, err := s.repairSeqHoles(ctx, id, now); err != nil {
			return err
		}
	}
	_, err = s.meta.UpdateOne(ctx, bson.D{{Key: "_id", Value: seqCheckpointID}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "checkedUntil", Value: upTo}}}}, options.UpdateOne().SetUpsert(true))
	if isDup(err) { // another node's sweep created the checkpoint at the same moment
		err = nil
	}
	return mapErr(err)
}

// RepairSeqHoles fills every seq hole of the chat that is older than RepairGrace with a
// tombstone (deleted: true, text "", tombstone: true, sent by the chat's creator) and
// returns how many it filled.
//
// A hole is a seq in 1..lastSeq that no message holds: a process died (or lost the
// server) between reserving the seq on the chat and storing the message (see
// messages.go). Its age is bounded from above without a record of each reservation:
// seqs are reserved in increasing order, so seq h was reserved before the chat's latest
// reservation (lastSeqAt) and before any existing message with a higher seq was stored
// (that message's updatedAt, set at or after its store time). A hole younger than the
// grace may still be an insert in flight and is left alone. Holes are found by counting
// index ranges and bisecting, a few counts per hole, without reading the messages.
func (s *Store) RepairSeqHoles(ctx context.Context, chatID string) (int, error) {
	cid, ok := oid(chatID)
	if !ok {
		return 0, models.ErrNotFound
	}
	return s.repairSeqHoles(ctx, cid, time.Now())
}

func (s *Store) repairSeqHoles(ctx context.Context, cid bson.ObjectID, now time.Time) (int, error) {
	var chat chatDoc
	if err := s.chats.FindOne(ctx, byID(cid)).Decode(&chat); err != nil {
		return 0, mapErr(err)
	}
	if chat.LastSeq <= 0 {
		return 0, nil
	}
	holes, err := s.findHoles(ctx, cid, 1, chat.LastSeq, nil)
	if err != nil || len(holes) == 0 {
		return 0, err
	}
	cutoff := now.Add(-s.opts.RepairGrace)
	allOld := chat.LastSeqAt != nil && chat.LastSeqAt.Before(cutoff)
	sender := chat.CreatedBy
	if sender.IsZero() && len(chat.Participants) > 0 {
		sender = chat.Participants[0]
	}
	filled := 0
	for _, h := range holes {
		// The next stored message above the hole dates the hole when the chat is busy,
		// and gives the tombstone a createdAt that keeps createdAt order with seq order.
		var next messageDoc
		err := s.messages.FindOne(ctx, bson.D{{Key: "chatId", Value: cid}, {Key: "seq", Value: bson.D{{Key: "$gt", Value: h}}}},
			options.FindOne().SetSort(bson.D{{Key: "seq", Value: 1}})).Decode(&next)
		at := chat.LastActivity
		switch {
		case err == nil:
			at = next.CreatedAt
			if !allOld && !next.UpdatedAt.Before(cutoff) {
				continue
			}
		case errors.Is(err, mongo.ErrNoDocuments):
			if !allOld {
				continue
			}
		default:
			return filled, mapErr(err)
		}
		if err := s.insertTombstone(ctx, cid, h, sender, ms(at)); err != nil {
			return filled, err
		}
		filled++
	}
	if filled > 0 {
		s.log.Info().Str("chat", cid.Hex()).Int("filled", filled).Msg("filled seq holes with tombstones")
	}
	return filled, nil
}

// findHoles appends to out the seqs in [lo, hi] that no message of the chat holds, by
// comparing index-range counts with the range size and bisecting the ranges that fall
// short. It stops collecting after sweepBatch holes.
func (s *Store) findHoles(ctx context.Context, cid bson.ObjectID, lo, hi int64, out []int64) ([]int64, error) {
	if lo > hi || len(out) >= sweepBatch {
		return out, nil
	}
	n, err := s.messages.CountDocuments(ctx, bson.D{{Key: "chatId", Value: cid},
		{Key: "seq", Value: bson.D{{Key: "$gte", Value: lo}, {Key: "$lte", Value: hi}}}})
	if err != nil {
		return out, mapErr(err)
	}
	switch {
	case n >= hi-lo+1:
		return out, nil
	case n == 0:
		for h := lo; h <= hi && len(out) < sweepBatch; h++ {
			out = append(out, h)
		}
		return out, nil
	}
	mid := lo + (hi-lo)/2
	if out, err = s.findHoles(ctx, cid, lo, mid, out); err != nil {
		return out, err
	}
	return s.findHoles(ctx, cid, mid+1, hi, out)
}
