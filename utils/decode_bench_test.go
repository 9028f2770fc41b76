package utils

import "testing"

type benchIn struct {
	ChatID   string  `json:"chatId"`
	Text     string  `json:"text"`
	ReplyTo  *string `json:"replyTo"`
	ClientID *string `json:"clientId"`
}

func BenchmarkDecodeStrict(b *testing.B) {
	raw := []byte(`{"chatId":"66a1b2c3d4e5f60718293a4b","text":"1.1 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","clientId":"c-1-2-3-4-5-6"}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var in benchIn
		if err := DecodeStrict(raw, &in); err != nil {
			b.Fatal(err)
		}
	}
}
