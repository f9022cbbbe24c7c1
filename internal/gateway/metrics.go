package gateway

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests       *prometheus.CounterVec   // by HTTP status code
	accepted       *prometheus.CounterVec   // by game
	rejected       *prometheus.CounterVec   // by rejection code
	bytes          prometheus.Counter       // request body bytes as received
	requestLatency *prometheus.HistogramVec // by code
	produceLatency prometheus.Histogram
	inFlight       prometheus.Gauge
	pending        prometheus.Gauge
	rateLimited    prometheus.Counter
	kafkaUp        prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	buckets := []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gamepulse_gateway_requests_total", Help: "Ingest requests by HTTP status code.",
		}, []string{"code"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gamepulse_gateway_events_accepted_total", Help: "Events acknowledged by Kafka, by game.",
		}, []string{"game"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gamepulse_gateway_events_rejected_total", Help: "Events refused, by reason code.",
		}, []string{"reason"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gamepulse_gateway_received_bytes_total", Help: "Request body bytes as received (before decompression).",
		}),
		requestLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gamepulse_gateway_request_duration_seconds", Help: "Ingest request latency, by HTTP status code.", Buckets: buckets,
		}, []string{"code"}),
		produceLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gamepulse_gateway_produce_duration_seconds", Help: "Time from handing a batch to Kafka until every record is acknowledged.", Buckets: buckets,
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gamepulse_gateway_in_flight_requests", Help: "Ingest requests being served.",
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gamepulse_gateway_pending_events", Help: "Events handed to Kafka and not yet acknowledged.",
		}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gamepulse_gateway_rate_limited_requests_total", Help: "Requests refused with 429 by the per-key rate limit.",
		}),
		kafkaUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gamepulse_gateway_kafka_up", Help: "1 while the gateway can produce to Kafka, 0 while it answers 503.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.accepted, m.rejected, m.bytes, m.requestLatency, m.produceLatency,
			m.inFlight, m.pending, m.rateLimited, m.kafkaUp)
	}
	// The codes the gateway answers start at 0, so that ratios over them
	// (the ingest error SLO) have data before the first error.
	for _, code := range []int{http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge,
		http.StatusUnsupportedMediaType, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable} {
		m.requests.WithLabelValues(strconv.Itoa(code))
	}
	return m
}
