// Command target is the loopback server of bench/k6/run.sh: it answers
// every request with 200 "ok" after DELAY_MS milliseconds (default 0) and
// prints its base URL on stdout.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	delay, _ := strconv.ParseFloat(os.Getenv("DELAY_MS"), 64)
	d := time.Duration(delay * float64(time.Millisecond))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if d > 0 {
			time.Sleep(d)
		}
		_, _ = w.Write([]byte("ok\n"))
	})}
	_ = srv.Serve(ln)
}
