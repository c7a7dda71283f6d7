package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestScrapeGoroutines(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 1234\ngo_threads 9\n"))
	}))
	defer srv.Close()
	n, err := scrapeGoroutines(t.Context(), srv.URL)
	if err != nil || n != 1234 {
		t.Fatalf("scrapeGoroutines = %d, %v; want 1234", n, err)
	}

	empty := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer empty.Close()
	if _, err := scrapeGoroutines(t.Context(), empty.URL); err == nil {
		t.Fatal("scrapeGoroutines without the metric succeeded")
	}
}
