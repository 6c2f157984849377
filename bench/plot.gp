# bench/plot.gp: the PNG plots of bench/run, drawn from the data files its
# report step writes into $BUILD/bench/plot/, with vars.gp (written there
# too) loaded first:
#   gnuplot build/bench/plot/vars.gp bench/plot.gp
# vars.gp sets dir, out, sizes, pvals, servers, labels, idle_ns, sat_conns,
# sat_inflight and have_echo/have_idle/have_sat.
#
#   echo_msgs.png, echo_cpu.png, echo_p99.png  one panel per message size (rows)
#       and messages in flight (columns), the metric over the number of
#       connections, a line per server: median, with the min-max as error bars
#   idle_memory.png   server RSS growth per idle connection, a bar per N
#   saturation.png    messages/s under saturation, ringwsd and raw io_uring
#
# Data files: echo_<metric>_S<size>_P<inflight>.dat rows "N med min max ..."
# (three columns per server, in the order of `servers`; "?" when missing),
# idle.dat rows "server med min max ..." (three per N), sat.dat rows
# "size ringwsd(med min max) raw_uring(med min max)".

set terminal pngcairo size 1500,1300 font "sans,10" noenhanced
set datafile missing "?"
set grid ytics lc rgb "#dddddd"
set key top left box opaque font "sans,9"
set style line 1 lc rgb "#d62728" lw 2 pt 7 ps 0.8
set style line 2 lc rgb "#1f77b4" lw 2 pt 5 ps 0.8
set style line 3 lc rgb "#2ca02c" lw 2 pt 9 ps 0.9
set style line 4 lc rgb "#9467bd" lw 2 pt 13 ps 0.9

sizename(s) = (s + 0 >= 1024) ? sprintf("%d KiB", (s + 0) / 1024) : sprintf("%s B", s)
metrics = "msgs cpu p99"
mtitles = "'messages/s (echoes received by ringload)' 'server CPU time per message (us)' 'p99 latency (us)'"

if (have_echo) {
	do for [mi = 1:words(metrics)] {
		m = word(metrics, mi)
		set output sprintf("%s/echo_%s.png", out, m)
		set multiplot layout words(sizes), words(pvals) title word(mtitles, mi) font "sans,13"
		set logscale x 10
		set logscale y 10
		set xrange [50:20000]
		set xlabel "connections"
		set format y "%g"
		do for [si = 1:words(sizes)] {
			do for [pi = 1:words(pvals)] {
				s = word(sizes, si)
				p = word(pvals, pi)
				f = sprintf("%s/echo_%s_S%s_P%s.dat", dir, m, s, p)
				set title sprintf("%s messages, %s in flight per connection", sizename(s), p)
				plot for [k = 1:words(servers)] f using 1:(column(3*k-1)):(column(3*k)):(column(3*k+1)) \
					with yerrorlines ls k title word(labels, k)
			}
		}
		unset multiplot
		unset logscale
		unset xrange
		unset xlabel
	}
}

set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set key top right
set yrange [0:*]
set xtics nomirror

if (have_idle) {
	set terminal pngcairo size 900,600 font "sans,10" noenhanced
	set output sprintf("%s/idle_memory.png", out)
	set title "server memory per idle connection (RSS growth / N, bytes)"
	set ylabel "bytes per connection"
	plot for [k = 1:words(idle_ns)] sprintf("%s/idle.dat", dir) \
		using (column(3*k-1)):(column(3*k)):(column(3*k+1)):xtic(1) \
		title sprintf("N = %s", word(idle_ns, k)) lc k + 1
}

if (have_sat) {
	set terminal pngcairo size 900,600 font "sans,10" noenhanced
	set output sprintf("%s/saturation.png", out)
	set title sprintf("saturation: messages/s (%d connections, %d in flight each)", sat_conns, sat_inflight)
	set ylabel "messages/s"
	set logscale y 10
	set yrange [*:*]
	plot sprintf("%s/sat.dat", dir) using 2:3:4:xtic(1) title "ringwsd" ls 1, \
		'' using 5:6:7 title "raw-io_uring" ls 2
}
