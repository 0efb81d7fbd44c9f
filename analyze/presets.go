package analyze

import "strings"

// A preset says what a known metric means in a finding. Names are matched
// exactly or, for a Prefix preset, by prefix, the longest match winning;
// a series with an unknown name still correlates, by its name.
type preset struct {
	Name   string
	Prefix bool
	// Meaning completes "…: <meaning>" in a finding.
	Meaning string
	// Symptom marks a series that follows the load (requests served,
	// bytes sent): it moves with slow windows because fewer requests
	// complete in them, not because it slows them.
	Symptom bool
	// Stall marks a generator figure that rises when the generator itself
	// falls behind: when one rises with the latency, the slow windows may
	// be the generator's and no server signal is named.
	Stall bool
}

// presets are the metric names surge knows: the Go runtime (client_golang
// and runtime/metrics names), the JVM through Micrometer and the
// Prometheus JMX exporter, connection and thread pools, process and
// container CPU, node_exporter, the figures of -watch, the generator's own
// and the lab's.
var presets = []preset{
	// Go runtime, client_golang's collector.
	{Name: "go_gc_duration_seconds", Prefix: true, Meaning: "Go garbage-collection stop-the-world pauses"},
	{Name: "go_memstats_heap_", Prefix: true, Meaning: "the Go heap: a heap that grows fast under load makes the GC run often and steal CPU from requests"},
	{Name: "go_memstats_alloc_bytes", Prefix: true, Meaning: "Go allocation: the allocation rate drives how often the GC runs"},
	{Name: "go_memstats_mallocs_total", Meaning: "Go allocation: the allocation rate drives how often the GC runs"},
	{Name: "go_memstats_next_gc_bytes", Meaning: "the Go heap size that triggers the next GC"},
	{Name: "go_memstats_gc_", Prefix: true, Meaning: "Go garbage-collection work"},
	{Name: "go_memstats_", Prefix: true, Meaning: "Go memory statistics"},
	{Name: "go_sched_latencies_seconds", Prefix: true, Meaning: "goroutines waiting for a CPU (Go scheduler latency): the server is short of CPU"},
	{Name: "go_sched_gomaxprocs_threads", Meaning: "GOMAXPROCS, the CPUs Go may use at once"},
	{Name: "go_sched_", Prefix: true, Meaning: "the Go scheduler"},
	{Name: "go_goroutines", Meaning: "goroutines in the server: they pile up while requests wait (on a lock, a pool, a downstream call), a consequence of the slowness more often than its cause", Symptom: true},
	{Name: "go_threads", Meaning: "OS threads of the Go server: goroutines blocked in system calls"},
	// Go runtime, runtime/metrics names as exported by client_golang 1.17+.
	{Name: "go_gc_", Prefix: true, Meaning: "Go garbage collection"},
	{Name: "go_cpu_classes_gc_", Prefix: true, Meaning: "CPU spent on Go garbage collection"},
	{Name: "go_cpu_classes_", Prefix: true, Meaning: "the Go runtime's CPU use"},
	// JVM, Micrometer.
	{Name: "jvm_gc_pause_seconds", Prefix: true, Meaning: "JVM garbage-collection pauses"},
	{Name: "jvm_gc_", Prefix: true, Meaning: "JVM garbage collection"},
	{Name: "jvm_memory_used_bytes", Meaning: "JVM memory in use: a heap too small for the load collects often"},
	{Name: "jvm_memory_", Prefix: true, Meaning: "JVM memory"},
	{Name: "jvm_threads_", Prefix: true, Meaning: "JVM threads"},
	{Name: "jvm_buffer_", Prefix: true, Meaning: "JVM buffer pools"},
	// JVM, Prometheus JMX exporter / client_java hotspot collectors.
	{Name: "jvm_gc_collection_seconds", Prefix: true, Meaning: "JVM garbage-collection time"},
	{Name: "jvm_memory_bytes_used", Meaning: "JVM memory in use: a heap too small for the load collects often"},
	{Name: "jvm_memory_pool_bytes_used", Meaning: "JVM memory pool in use"},
	// Connection and thread pools.
	{Name: "hikaricp_connections_active", Meaning: "HikariCP connections in use: at the pool's maximum, requests wait for one"},
	{Name: "hikaricp_connections_pending", Meaning: "requests waiting for a HikariCP connection: the connection pool is exhausted"},
	{Name: "hikaricp_connections_max", Meaning: "the HikariCP pool's maximum size"},
	{Name: "hikaricp_connections_acquire_seconds", Prefix: true, Meaning: "time to get a HikariCP connection: waiting for the pool"},
	{Name: "hikaricp_connections_usage_seconds", Prefix: true, Meaning: "how long HikariCP connections are held"},
	{Name: "hikaricp_", Prefix: true, Meaning: "the HikariCP connection pool"},
	{Name: "tomcat_threads_busy_threads", Meaning: "Tomcat worker threads busy: at the maximum, requests queue for a thread"},
	{Name: "tomcat_threads_", Prefix: true, Meaning: "Tomcat's worker threads"},
	{Name: "executor_queued_tasks", Meaning: "tasks queued for an executor's threads: the thread pool is saturated"},
	{Name: "executor_active_threads", Meaning: "an executor's busy threads"},
	{Name: "executor_", Prefix: true, Meaning: "an executor thread pool"},
	{Name: "reactor_", Prefix: true, Meaning: "Reactor schedulers: a bounded elastic or parallel pool sized from the CPUs the JVM sees"},
	// Process (client libraries' process collector, and -watch).
	{Name: "process_cpu_seconds_total", Meaning: "the server process's CPU time: it was busy computing"},
	{Name: "process_cpu_", Prefix: true, Meaning: "the server process's CPU time"},
	{Name: "process_resident_memory_bytes", Meaning: "the server process's resident memory"},
	{Name: "process_open_fds", Meaning: "the server process's open file descriptors (connections, files)"},
	{Name: "process_threads", Meaning: "the server process's threads"},
	{Name: "process_context_switches_involuntary_total", Meaning: "the server process preempted while runnable: it was short of CPU"},
	{Name: "process_context_switches_voluntary_total", Meaning: "the server process blocking (I/O, locks): voluntary context switches"},
	{Name: "process_cpu_user_seconds_total", Meaning: "the server process's CPU time in user space: it was busy computing"},
	{Name: "process_cpu_system_seconds_total", Meaning: "the server process's CPU time in the kernel (system calls, network)"},
	{Name: "cgroup_cpu_periods_total", Meaning: "CFS enforcement periods of the server's cgroup"},
	{Name: "process_voluntary_ctxt_switches", Prefix: true, Meaning: "the server process blocking (I/O, locks): voluntary context switches"},
	{Name: "process_nonvoluntary_ctxt_switches", Prefix: true, Meaning: "the server process preempted while runnable: it was short of CPU"},
	{Name: "process_involuntary_ctxt_switches", Prefix: true, Meaning: "the server process preempted while runnable: it was short of CPU"},
	{Name: "process_", Prefix: true, Meaning: "the server process"},
	{Name: "cgroup_cpu_nr_throttled", Prefix: true, Meaning: "CPU throttling by the cgroup's CPU limit"},
	{Name: "cgroup_cpu_throttled", Prefix: true, Meaning: "CPU throttling by the cgroup's CPU limit"},
	// Containers (cAdvisor) and hosts (node_exporter).
	{Name: "container_cpu_cfs_throttled_", Prefix: true, Meaning: "CPU throttling by the container's CPU limit (CFS quota)"},
	{Name: "container_cpu_usage_seconds_total", Meaning: "the container's CPU time"},
	{Name: "container_memory_", Prefix: true, Meaning: "the container's memory"},
	{Name: "node_cpu_seconds_total", Meaning: "the host's CPU time by mode (node_exporter)"},
	{Name: "node_pressure_cpu_", Prefix: true, Meaning: "tasks waiting for a CPU on the host (pressure stall information)"},
	{Name: "node_load", Prefix: true, Meaning: "the host's load average"},
	{Name: "node_", Prefix: true, Meaning: "the host (node_exporter)"},
	// The load itself.
	{Name: "http_server_requests_seconds_count", Meaning: "requests the server completed: it follows the load and slows when requests do, a symptom rather than a cause", Symptom: true},
	{Name: "http_requests_total", Meaning: "requests the server completed: it follows the load, a symptom rather than a cause", Symptom: true},
	{Name: "promhttp_metric_handler_requests_", Prefix: true, Meaning: "the server's own scrapes", Symptom: true},
	// The generator's own (source "surge"): a stall is the generator's.
	{Name: "surge_send_lag_p99_seconds", Meaning: "the generator's own send lag: requests went out late", Stall: true},
	{Name: "surge_not_sent_total", Meaning: "requests the generator could not send", Stall: true},
	{Name: "surge_cpu_seconds_total", Meaning: "the generator's own CPU time"},
	{Name: "surge_in_flight", Meaning: "requests surge had in flight: at a fixed rate they rise with latency (Little's law), a consequence", Symptom: true},
	{Name: "surge_sent_total", Meaning: "requests surge sent: it follows the load", Symptom: true},
	// Prometheus's own (a real server the tests load).
	{Name: "prometheus_engine_query_duration_seconds", Prefix: true, Meaning: "time Prometheus's query engine spent on queries (its slices: queue, prepare, evaluation): the queries themselves cost it"},
	{Name: "prometheus_http_request_duration_seconds", Prefix: true, Meaning: "the server's own measure of its request time: the same slowness seen from inside, a symptom", Symptom: true},
	{Name: "prometheus_engine_queries", Meaning: "queries running in Prometheus's engine at once"},
	// The lab's own figures.
	{Name: "surge_lab_pause_seconds_total", Meaning: "the lab's stop-the-world pauses"},
	{Name: "surge_lab_pool_busy", Meaning: "the lab's pool slots in use: at the pool's size, requests wait for a slot"},
	{Name: "surge_lab_pool_waiting", Meaning: "requests waiting for a lab pool slot: the pool is exhausted"},
	{Name: "surge_lab_in_flight", Meaning: "requests inside the lab, waiting included", Symptom: true},
	{Name: "surge_lab_requests_total", Meaning: "requests the lab received: it follows the load, a symptom rather than a cause", Symptom: true},
	{Name: "surge_lab_", Prefix: true, Meaning: "a lab figure"},
}

// meaningOf returns what a series of the given name means in a finding,
// "" for an unknown name, and whether it is a symptom of the load.
func meaningOf(name string) (meaning string, symptom bool) {
	p := presetOf(name)
	if p == nil {
		if strings.HasSuffix(name, "_requests_total") {
			return "requests the server counted: it follows the load, a symptom rather than a cause", true
		}
		return "", false
	}
	return p.Meaning, p.Symptom
}

// presetOf returns the preset of name: its exact entry, else the longest
// prefix entry, else nil.
func presetOf(name string) *preset {
	best := -1
	for i, p := range presets {
		switch {
		case p.Name == name:
			return &presets[i]
		case p.Prefix && strings.HasPrefix(name, p.Name) && (best < 0 || len(p.Name) > len(presets[best].Name)):
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	return &presets[best]
}
