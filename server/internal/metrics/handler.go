package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the node's metrics in the Prometheus exposition format.
// A collector that fails does not blank the scrape: the others are served
// and promhttp_metric_handler_errors_total counts the failure.
// On a nil *Metrics it answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		Registry:            m.Registry,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}
