package client

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/parley-chat/parley/handlers"
	"github.com/parley-chat/parley/models"
)

// wireShapes maps each Go wire shape to the TS interface that declares it.
var wireShapes = []struct {
	goType any
	ts     string
}{
	{models.UserView{}, "User"},
	{models.UserRef{}, "UserRef"},
	{models.ChatView{}, "Chat"},
	{models.MessageView{}, "Message"},
	{models.ReplyView{}, "ReplyTo"},
	{models.ReactionView{}, "Reaction"},
	{models.AttachmentView{}, "Attachment"},
	{models.FriendRequestView{}, "FriendRequest"},
	{models.NotificationView{}, "NotificationOf"},
}

// eventInputs maps every client → server event of handlers.Events() to its Go input type
// and the TS payload type used in ClientToServerEvents. A new event in Go fails the test
// until it is added here (and to parley.d.ts).
var eventInputs = map[string]struct {
	goType any
	ts     string
}{
	"user:me":                  {handlers.Empty{}, "EmptyPayload"},
	"user:get":                 {handlers.UserGetInput{}, "UserIdPayload"},
	"user:search":              {handlers.UserSearchInput{}, "UserSearchPayload"},
	"user:update":              {handlers.UserUpdateInput{}, "UserUpdatePayload"},
	"chat:create":              {handlers.ChatCreateInput{}, "ChatCreatePayload"},
	"chat:list":                {handlers.ChatListInput{}, "ChatListPayload"},
	"chat:get":                 {handlers.ChatIDInput{}, "ChatIdPayload"},
	"chat:update":              {handlers.ChatUpdateInput{}, "ChatUpdatePayload"},
	"chat:participants:add":    {handlers.ChatParticipantsAddInput{}, "ChatParticipantsAddPayload"},
	"chat:participants:remove": {handlers.ChatParticipantsRemoveInput{}, "ChatParticipantsRemovePayload"},
	"chat:admin:set":           {handlers.ChatAdminSetInput{}, "ChatAdminSetPayload"},
	"chat:leave":               {handlers.ChatIDInput{}, "ChatIdPayload"},
	"chat:mute":                {handlers.ChatMuteInput{}, "ChatMutePayload"},
	"chat:unmute":              {handlers.ChatIDInput{}, "ChatIdPayload"},
	"message:new":              {handlers.MessageNewInput{}, "MessageNewPayload"},
	"message:list":             {handlers.MessageListInput{}, "MessageListPayload"},
	"message:edit":             {handlers.MessageEditInput{}, "MessageEditPayload"},
	"message:delete":           {handlers.MessageIDInput{}, "MessageIdPayload"},
	"message:read":             {handlers.MessageReadInput{}, "MessageReadPayload"},
	"message:react":            {handlers.MessageReactInput{}, "MessageReactPayload"},
	"message:unreact":          {handlers.MessageReactInput{}, "MessageReactPayload"},
	"message:search":           {handlers.MessageSearchInput{}, "MessageSearchPayload"},
	"sync":                     {handlers.SyncInput{}, "SyncPayload"},
	"user:block":               {handlers.UserIDInput{}, "UserIdPayload"},
	"user:unblock":             {handlers.UserIDInput{}, "UserIdPayload"},
	"user:blocked":             {handlers.Empty{}, "EmptyPayload"},
	"presence:get":             {handlers.PresenceGetInput{}, "PresenceGetPayload"},
	"typing:start":             {handlers.ChatIDInput{}, "ChatIdPayload"},
	"typing:stop":              {handlers.ChatIDInput{}, "ChatIdPayload"},
	"friend:request:send":      {handlers.UserIDInput{}, "UserIdPayload"},
	"friend:request:accept":    {handlers.RequestIDInput{}, "FriendRequestIdPayload"},
	"friend:request:decline":   {handlers.RequestIDInput{}, "FriendRequestIdPayload"},
	"friend:request:cancel":    {handlers.RequestIDInput{}, "FriendRequestIdPayload"},
	"friend:request:list":      {handlers.Empty{}, "EmptyPayload"},
	"friend:list":              {handlers.Empty{}, "EmptyPayload"},
	"friend:remove":            {handlers.UserIDInput{}, "UserIdPayload"},
	"notification:list":        {handlers.NotificationListInput{}, "NotificationListPayload"},
	"notification:read":        {handlers.NotificationReadInput{}, "NotificationReadPayload"},
}

// serverOnlyEvents are client → server events handled by the server package itself, not by
// handlers.Events().
var serverOnlyEvents = []string{"auth:refresh"}

// pendingInGo lists events that PROTOCOL.md and parley.d.ts declare but handlers.Events()
// does not implement yet. It is for the time a handler is being written and MUST be empty
// at the end of the project: when an event lands in Go, remove it from here and add it to
// eventInputs (the test fails until you do).
var pendingInGo = []string{}

// errorCodes are the codes the server sends (utils.Code*); each must be in ErrorCode.
var errorCodes = []string{
	"UNAUTHORIZED", "VALIDATION_ERROR", "NOT_FOUND", "FORBIDDEN", "CONFLICT",
	"RATE_LIMITED", "UNAVAILABLE", "INTERNAL", "PAYLOAD_TOO_LARGE",
}

func TestShapesMatchGo(t *testing.T) {
	d := parseDTS(t)
	for _, s := range wireShapes {
		goT := reflect.TypeOf(s.goType)
		members, ok := d.interfaces[s.ts]
		if !ok {
			t.Errorf("parley.d.ts: interface %s (for %s) not found", s.ts, goT)
			continue
		}
		goFields := jsonFields(goT)
		diffSets(t, goT.String(), "interface "+s.ts, sortedKeys(goFields), sortedKeys(members))
		// A Go pointer is JSON null when unset, so the TS type must admit null, and only then.
		for name, isPtr := range goFields {
			tsType, ok := members[name]
			if !ok {
				continue
			}
			if hasNull := nullRe.MatchString(tsType); hasNull != isPtr {
				t.Errorf("%s.%s: Go pointer=%v but TS %s.%s is %q", goT, name, isPtr, s.ts, name, tsType)
			}
		}
	}
}

func TestClientEventsMatchGo(t *testing.T) {
	d := parseDTS(t)
	goEvents := map[string]bool{}
	for _, e := range handlers.New(handlers.Deps{}).Events() {
		if goEvents[e.Name] {
			t.Errorf("handlers.Events() lists %q twice", e.Name)
		}
		goEvents[e.Name] = true
	}
	pending := map[string]bool{}
	for _, name := range pendingInGo {
		pending[name] = true
		if goEvents[name] {
			t.Errorf("%q is implemented in Go now: remove it from pendingInGo and add it to eventInputs", name)
		}
	}
	allowedTS := map[string]bool{}
	for name := range goEvents {
		allowedTS[name] = true
		if _, ok := d.clientEvents[name]; !ok {
			t.Errorf("Go event %q is missing from ClientToServerEvents in parley.d.ts", name)
		}
		if _, ok := eventInputs[name]; !ok {
			t.Errorf("Go event %q is missing from eventInputs in dts_test.go: add its input type and TS payload", name)
		}
	}
	for _, name := range serverOnlyEvents {
		allowedTS[name] = true
		if _, ok := d.clientEvents[name]; !ok {
			t.Errorf("event %q is missing from ClientToServerEvents in parley.d.ts", name)
		}
	}
	for name := range d.clientEvents {
		if !allowedTS[name] && !pending[name] {
			t.Errorf("ClientToServerEvents has %q, which handlers.Events() does not implement (and it is not in pendingInGo)", name)
		}
	}
	for _, name := range sortedKeys(eventInputs) {
		in := eventInputs[name]
		if !goEvents[name] {
			t.Errorf("eventInputs has %q, which handlers.Events() no longer lists", name)
			continue
		}
		if got := d.clientEvents[name]; got != "" && got != in.ts {
			t.Errorf("ClientToServerEvents[%q] takes payload %q, eventInputs says %q", name, got, in.ts)
		}
		members, ok := d.resolve(in.ts)
		if !ok {
			t.Errorf("parley.d.ts: payload type %s (for %q) not found or not a plain interface/union of interfaces", in.ts, name)
			continue
		}
		goT := reflect.TypeOf(in.goType)
		diffSets(t, goT.String()+" ("+name+")", in.ts, sortedKeys(jsonFields(goT)), sortedKeys(members))
	}
}

func TestServerEventsAndCodes(t *testing.T) {
	d := parseDTS(t)
	if len(d.serverEvents) == 0 {
		t.Fatal("parley.d.ts: ServerToClientEvents not found or empty")
	}
	// Every event name the Go code emits as a literal must be declared.
	emitRe := regexp.MustCompile(`\b(?:To\w*|Emit)\([^"\n]*"([a-z]+(?::[a-z]+)+)"`)
	for _, dir := range []string{"../handlers", "../server"} {
		files, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
				continue
			}
			src, err := os.ReadFile(dir + "/" + f.Name())
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range emitRe.FindAllStringSubmatch(string(src), -1) {
				if _, ok := d.serverEvents[m[1]]; !ok {
					t.Errorf("%s/%s emits %q, which ServerToClientEvents does not declare", dir, f.Name(), m[1])
				}
			}
		}
	}
	codes := d.stringUnion("ErrorCode")
	if codes == nil {
		t.Fatal(`parley.d.ts: type ErrorCode = "…" | … not found`)
	}
	diffSets(t, "server error codes", "ErrorCode", errorCodes, codes)
}

// ---------------------------------------------------------------------------------------
// Go side

// jsonFields returns the JSON names of t's encoded fields, each with whether its Go type is
// a pointer. Unexported fields and json:"-" are skipped; untagged embedded structs are
// flattened as encoding/json does.
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type.Kind() == reflect.Pointer
	}
	return out
}

// ---------------------------------------------------------------------------------------
// TS side: a small scanner, enough for the declaration style of parley.d.ts.

type dts struct {
	interfaces   map[string]map[string]string // interface name → member name → member type
	aliases      map[string]string            // type alias name → right-hand side
	clientEvents map[string]string            // event → payload type name
	serverEvents map[string]string            // event → member type
}

var (
	commentRe   = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`)
	interfaceRe = regexp.MustCompile(`\binterface\s+([A-Za-z_]\w*)\s*(?:<[^{]*>)?\s*(?:extends\s[^{]*)?\{`)
	aliasRe     = regexp.MustCompile(`\btype\s+([A-Za-z_]\w*)\s*(?:<[^=]*>)?\s*=([^;]*);`)
	memberRe    = regexp.MustCompile(`^\s*(?:readonly\s+)?(?:"([^"]+)"|'([^']+)'|([A-Za-z_$][\w$]*))\s*\??\s*:\s*([\s\S]*)$`)
	payloadRe   = regexp.MustCompile(`^\(\s*payload\s*:\s*([A-Za-z_]\w*)\s*,\s*ack\s*:`)
	unionRe     = regexp.MustCompile(`^\s*\|?\s*[A-Za-z_]\w*(?:\s*\|\s*[A-Za-z_]\w*)*\s*$`)
	literalRe   = regexp.MustCompile(`"([^"]*)"`)
	nullRe      = regexp.MustCompile(`\bnull\b`)
	emptyRe     = regexp.MustCompile(`^\s*Record<\s*(?:string|never)\s*,\s*never\s*>\s*$`)
)

func parseDTS(t *testing.T) *dts {
	t.Helper()
	raw, err := os.ReadFile("parley.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	src := commentRe.ReplaceAllString(string(raw), "")
	d := &dts{interfaces: map[string]map[string]string{}, aliases: map[string]string{}}
	for _, loc := range interfaceRe.FindAllStringSubmatchIndex(src, -1) {
		name := src[loc[2]:loc[3]]
		body := braceBody(src, loc[1]-1)
		members := map[string]string{}
		for _, seg := range splitTop(body) {
			m := memberRe.FindStringSubmatch(seg)
			if m == nil {
				continue // index signatures, call signatures
			}
			members[m[1]+m[2]+m[3]] = strings.TrimSpace(m[4])
		}
		d.interfaces[name] = members
	}
	for _, m := range aliasRe.FindAllStringSubmatch(src, -1) {
		d.aliases[m[1]] = strings.TrimSpace(m[2])
	}
	d.clientEvents = map[string]string{}
	for ev, typ := range d.interfaces["ClientToServerEvents"] {
		m := payloadRe.FindStringSubmatch(typ)
		if m == nil {
			t.Errorf("ClientToServerEvents[%q]: want (payload: Name, ack: (res: Ack<R>) => void) => void, got %q", ev, typ)
			continue
		}
		d.clientEvents[ev] = m[1]
	}
	d.serverEvents = d.interfaces["ServerToClientEvents"]
	return d
}

// braceBody returns the text between the brace at open and its match.
func braceBody(src string, open int) string {
	depth := 0
	for i := open; i < len(src); i++ {
		switch src[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return src[open+1 : i]
			}
		}
	}
	return src[open+1:]
}

// splitTop splits an interface body at the ';' and ',' that are not nested in brackets.
func splitTop(body string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '{', '(', '[', '<':
			depth++
		case '}', ')', ']':
			depth--
		case '>':
			if i > 0 && body[i-1] == '=' { // the arrow of a function type
				continue
			}
			depth--
		case ';', ',':
			if depth == 0 {
				out = append(out, body[start:i])
				start = i + 1
			}
		}
	}
	if rest := strings.TrimSpace(body[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

// resolve returns the member names of a payload type: an interface, a union of interfaces
// (the union of their members), or Record<string, never> (no members).
func (d *dts) resolve(name string) (map[string]string, bool) {
	if m, ok := d.interfaces[name]; ok {
		return m, true
	}
	rhs, ok := d.aliases[name]
	if !ok {
		return nil, false
	}
	if emptyRe.MatchString(rhs) {
		return map[string]string{}, true
	}
	if !unionRe.MatchString(rhs) {
		return nil, false
	}
	out := map[string]string{}
	for _, part := range strings.Split(rhs, "|") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		m, ok := d.resolve(part)
		if !ok {
			return nil, false
		}
		for k, v := range m {
			out[k] = v
		}
	}
	return out, true
}

// stringUnion returns the literals of `type name = "a" | "b" …`, or nil.
func (d *dts) stringUnion(name string) []string {
	rhs, ok := d.aliases[name]
	if !ok {
		return nil
	}
	var out []string
	for _, m := range literalRe.FindAllStringSubmatch(rhs, -1) {
		out = append(out, m[1])
	}
	return out
}

// ---------------------------------------------------------------------------------------
// helpers

// diffSets fails with the names only in want and only in got.
func diffSets(t *testing.T, wantName, gotName string, want, got []string) {
	t.Helper()
	var onlyWant, onlyGot []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			onlyWant = append(onlyWant, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			onlyGot = append(onlyGot, g)
		}
	}
	sort.Strings(onlyWant)
	sort.Strings(onlyGot)
	if len(onlyWant) > 0 {
		t.Errorf("in %s but not in TS %s: %s", wantName, gotName, strings.Join(onlyWant, ", "))
	}
	if len(onlyGot) > 0 {
		t.Errorf("in TS %s but not in %s: %s", gotName, wantName, strings.Join(onlyGot, ", "))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
