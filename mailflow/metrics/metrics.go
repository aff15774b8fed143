// Package metrics owns Parley's Prometheus collectors. One *Metrics is
// made at start-up and handed to whoever counts; nothing registers into
// the global default registry, so tests can make as many as they like.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds the registry and the collectors.
type Metrics struct {
	Registry        *prometheus.Registry
	HTTPRequests    *prometheus.CounterVec // route, method, status
	MailSent        prometheus.Counter
	MailFailed      prometheus.Counter
	InboundAccepted prometheus.Counter
	InboundRejected *prometheus.CounterVec // reason
	InboundFailed   prometheus.Counter     // received, then could not be processed after every retry
	InboundLoops    prometheus.Counter     // received mail that was Parley's own coming back
}

// New creates and registers the collectors, with Go and process metrics.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		MailSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_mail_sent_total", Help: "Emails handed to the outbound backend.",
		}),
		MailFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_mail_failed_total", Help: "Emails that failed permanently.",
		}),
		InboundAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_inbound_accepted_total", Help: "Inbound emails accepted.",
		}),
		InboundRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_inbound_rejected_total", Help: "Inbound emails rejected, by reason.",
		}, []string{"reason"}),
		InboundFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_inbound_failed_total", Help: "Inbound emails accepted but not processed after every retry (listed for admins).",
		}),
		InboundLoops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_inbound_loops_total", Help: "Inbound emails recognised as Parley's own mail coming back, neither posted nor answered.",
		}),
	}
	r.MustRegister(m.HTTPRequests, m.MailSent, m.MailFailed, m.InboundAccepted, m.InboundRejected, m.InboundFailed, m.InboundLoops,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// RegisterGauge adds a gauge whose value is read when scraped (queue
// depth, for one).
func (m *Metrics) RegisterGauge(name, help string, value func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, value))
}
