package models

import (
	"encoding/hex"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// NewID returns a fresh 24-hex ObjectId string. Both stores use ObjectId-shaped ids so data
// can move between them and clients see the same id format as from the Node server.
func NewID() string { return bson.NewObjectID().Hex() }

// ValidID reports whether s is a 24-hex ObjectId string.
func ValidID(s string) bool {
	if len(s) != 24 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
