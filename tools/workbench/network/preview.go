package network

import (
	"encoding/json"
	"unicode/utf8"
)

// MaxJournalBody is the largest body the journal keeps whole. Real
// messages are kilobytes (a read_ok of every broadcast value stays far
// below this); a hostile node's can be megabytes each, and a journal
// keeping them whole grew by 352 MB for 48 messages of 7 MiB.
const MaxJournalBody = 64 << 10

// bodyPreviewLen is how much of an elided body the journal keeps, as text.
const bodyPreviewLen = 1024

// journalBody is what the journal keeps of a body: the body itself when it
// is at most MaxJournalBody, else a small object that keeps the fields the
// journal's readers match messages by (type, msg_id, in_reply_to), says
// how long the body was (elided_bytes) and keeps its first bytes as a
// string (preview).
func journalBody(body json.RawMessage) json.RawMessage {
	if len(body) <= MaxJournalBody {
		return body
	}
	var head struct {
		Type      json.RawMessage `json:"type,omitempty"`
		MsgID     json.RawMessage `json:"msg_id,omitempty"`
		InReplyTo json.RawMessage `json:"in_reply_to,omitempty"`
	}
	_ = json.Unmarshal(body, &head) // a field that does not parse is left out
	keep := func(raw json.RawMessage) json.RawMessage {
		if len(raw) > 256 { // a huge "type" is part of what is elided
			return nil
		}
		return raw
	}
	cut := bodyPreviewLen
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut-- // do not split a character
	}
	out, err := json.Marshal(struct {
		Type        json.RawMessage `json:"type,omitempty"`
		MsgID       json.RawMessage `json:"msg_id,omitempty"`
		InReplyTo   json.RawMessage `json:"in_reply_to,omitempty"`
		ElidedBytes int             `json:"elided_bytes"`
		Preview     string          `json:"preview"`
	}{keep(head.Type), keep(head.MsgID), keep(head.InReplyTo), len(body), string(body[:cut])})
	if err != nil {
		// The kept fields came out of a valid body, so this does not
		// happen; keep the length alone rather than the body.
		out, _ = json.Marshal(map[string]int{"elided_bytes": len(body)})
	}
	return out
}
