package testsvc

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The server keeps its data across Stop and Start on the same address.
func TestFerretDBRestart(t *testing.T) {
	start := time.Now()
	f := FerretDB(t)
	t.Logf("started in %s at %s", time.Since(start).Round(time.Millisecond), f.URI())
	client, err := mongo.Connect(options.Client().ApplyURI(f.URI()).SetServerSelectionTimeout(2 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	coll := client.Database("t").Collection("c")
	if _, err := coll.InsertOne(t.Context(), bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped in %s", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	err = coll.FindOne(ctx, bson.D{}).Err()
	cancel()
	if err == nil {
		t.Fatal("a stopped server answered")
	}
	start = time.Now()
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted in %s", time.Since(start).Round(time.Millisecond))
	if n, err := coll.CountDocuments(t.Context(), bson.D{}); err != nil || n != 1 {
		t.Fatalf("after restart: %d documents, %v; want the 1 stored before", n, err)
	}
}
