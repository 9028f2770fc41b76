// Package client holds the TypeScript declarations for client apps; its test keeps them in step with the Go wire types.
package client
