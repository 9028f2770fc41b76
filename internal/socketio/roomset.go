package socketio

// roomSet holds a room's sockets on this node. Most rooms here are small (a user's room
// holds that user's tabs), so up to smallRoom members live in a slice — a fraction of a
// map's memory per room, which counts with thousands of connections — and bigger rooms
// switch to a map.
type roomSet struct {
	small []*Socket
	big   map[*Socket]struct{}
}

const smallRoom = 8

func (r *roomSet) len() int {
	if r.big != nil {
		return len(r.big)
	}
	return len(r.small)
}

func (r *roomSet) has(s *Socket) bool {
	if r.big != nil {
		_, ok := r.big[s]
		return ok
	}
	for _, x := range r.small {
		if x == s {
			return true
		}
	}
	return false
}

// add reports whether s was not a member yet.
func (r *roomSet) add(s *Socket) bool {
	if r.has(s) {
		return false
	}
	if r.big != nil {
		r.big[s] = struct{}{}
		return true
	}
	if len(r.small) < smallRoom {
		r.small = append(r.small, s)
		return true
	}
	r.big = make(map[*Socket]struct{}, 2*smallRoom)
	for _, x := range r.small {
		r.big[x] = struct{}{}
	}
	r.small = nil
	r.big[s] = struct{}{}
	return true
}

// remove reports whether s was a member.
func (r *roomSet) remove(s *Socket) bool {
	if r.big != nil {
		if _, ok := r.big[s]; !ok {
			return false
		}
		delete(r.big, s)
		return true
	}
	for i, x := range r.small {
		if x == s {
			last := len(r.small) - 1
			r.small[i] = r.small[last]
			r.small[last] = nil
			r.small = r.small[:last]
			return true
		}
	}
	return false
}

func (r *roomSet) each(fn func(*Socket)) {
	if r.big != nil {
		for s := range r.big {
			fn(s)
		}
		return
	}
	for _, s := range r.small {
		fn(s)
	}
}
