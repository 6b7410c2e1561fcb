package node

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the node's Prometheus series, served at /metrics. Each node
// has its own registry, so several nodes in one test process do not clash.
type metrics struct {
	reg          *prometheus.Registry
	height       prometheus.Gauge
	txs          *prometheus.CounterVec
	mempool      prometheus.GaugeFunc
	blockTxs     prometheus.Histogram
	blockExec    prometheus.Histogram
	blockStore   prometheus.Histogram
	txRejected   *prometheus.CounterVec
	httpRequests *prometheus.CounterVec
	apiRefused   *prometheus.CounterVec
	sigsChecked  *prometheus.CounterVec
	// The series of sigsChecked, resolved once: they are counted on the
	// paths every transaction takes.
	sigsSubmit, sigsGossip, sigsBlock, sigsSync prometheus.Counter
}

func newMetrics(mempoolSize func() float64) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.height = prometheus.NewGauge(prometheus.GaugeOpts{Name: "citychain_height",
		Help: "Height of the last committed block."})
	m.txs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citychain_txs_committed_total",
		Help: "Transactions committed, by receipt status."}, []string{"status"})
	m.mempool = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "citychain_mempool_txs",
		Help: "Transactions waiting in the mempool."}, mempoolSize)
	m.blockTxs = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "citychain_block_txs",
		Help: "Transactions per committed block.", Buckets: []float64{0, 1, 10, 100, 500, 1000, 2000, 4000}})
	m.blockExec = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "citychain_block_execute_seconds",
		Help: "Time to execute a block and compute its state root.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
	m.blockStore = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "citychain_block_store_seconds",
		Help: "Time to write a block's batch to Badger, fsync included.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
	m.txRejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citychain_txs_rejected_total",
		Help: "Transactions refused at submission, by error code."}, []string{"code"})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citychain_http_requests_total",
		Help: "API requests, by route and status code."}, []string{"route", "code"})
	m.apiRefused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citychain_api_refused_total",
		Help: "API requests refused by the API's bounds, by error code (rate_limited, busy, too_many_streams, client_connections)."}, []string{"code"})
	m.sigsChecked = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citychain_signatures_verified_total",
		Help: "Transaction signatures this node verified, by where: submit (the API), gossip (the tx topic's validator), block (a proposed block's transactions it had not seen), sync (blocks fetched by block sync). Each transaction should be verified about once per node."}, []string{"where"})
	m.sigsSubmit, m.sigsGossip = m.sigsChecked.WithLabelValues("submit"), m.sigsChecked.WithLabelValues("gossip")
	m.sigsBlock, m.sigsSync = m.sigsChecked.WithLabelValues("block"), m.sigsChecked.WithLabelValues("sync")
	m.reg.MustRegister(m.height, m.txs, m.mempool, m.blockTxs, m.blockExec, m.blockStore,
		m.txRejected, m.httpRequests, m.apiRefused, m.sigsChecked,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
