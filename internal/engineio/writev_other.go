//go:build !unix

package engineio

import "net"

// rawWriter is unavailable here: broadcasts start one writer goroutine per connection.
type rawWriter struct{}

func newRawWriter(net.Conn) *rawWriter { return nil }

func (*rawWriter) writeAvailable([][]byte) (int, error) { return 0, nil }
