package attack

import "testing"

// BenchmarkLoopParser measures the event loop's response parser alone: a
// chunked response fed in one piece, as most responses arrive.
func BenchmarkLoopParser(b *testing.B) {
	resp := []byte("HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3;x=y\r\nabc\r\n0\r\nT: x\r\n\r\n")
	p := newLoopParser()
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	for b.Loop() {
		p.reset(false)
		used, done, err := p.feed(resp, false)
		if err != nil || !done || used != len(resp) || p.resp.bytesIn != 5 {
			b.Fatalf("used %d of %d, done %v, err %v, %d bytes", used, len(resp), done, err, p.resp.bytesIn)
		}
	}
}
