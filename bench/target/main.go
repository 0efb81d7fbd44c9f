// Command target is the benchmark's system under test: a Go net/http server
// answering every request with a 2-byte body, the smallest honest HTTP
// server, so the generators' own costs dominate.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8089", "listen address (loopback)")
	flag.Parse()
	body := []byte("ok")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"text/plain"}
		w.Write(body)
	})
	log.Fatal(http.ListenAndServe(*addr, h))
}
