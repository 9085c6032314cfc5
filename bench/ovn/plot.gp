# bench/ovn/plot.gp: the plot of make bench-ovn (docs/benchmarks.md).
#   gnuplot -e "dat='bench/out/bench-ovn.dat'; out='docs/bench-ovn.svg'" bench/ovn/plot.gp
# Columns of dat (bench/ovn/report.py): ENIs, converge (s) of ours (vpcctl
# apply, action), ours (vpcd), OVN; OpenFlow flows of ours (action), ours
# (flows), OVN.  NaN = no value (OVN did not converge).
if (!exists("dat")) dat = 'bench/out/bench-ovn.dat'
if (!exists("out")) out = 'docs/bench-ovn.svg'
set terminal svg size 960,420 dynamic font "sans,11" background rgb "white"
set output out
set datafile missing "NaN"
set multiplot layout 1,2 title "ovs-vpc vs OVN 23.03, one host of a region (same machine, same intents)"
set logscale xy
set xrange [700:140000]
set xlabel "ENIs in the region"
set grid
set key bottom right
set format x "%.0s%c"
set title "time to converge (s)"
set ylabel "seconds"
set yrange [0.05:2000]
set arrow 1 from 700,600 to 140000,600 nohead dt 2 lc rgb "gray40"
set label 1 "OVN cap: 600 s" at 900,800 tc rgb "gray40"
plot dat using 1:2 with linespoints lw 2 pt 7 title "ours: vpcctl apply (action)", \
     dat using 1:3 with linespoints lw 2 pt 5 title "ours: vpcd PUT (action)", \
     dat using 1:4 with linespoints lw 2 pt 9 title "OVN (missing = did not converge)"
set title "OpenFlow flows on the host"
set ylabel "flows"
unset arrow 1
unset label 1
set yrange [1000:*]
set key center right
plot dat using 1:5 with linespoints lw 2 pt 7 title "ours (action mapping)", \
     dat using 1:6 with linespoints lw 2 pt 5 title "ours (flows mapping)", \
     dat using 1:7 with linespoints lw 2 pt 9 title "OVN"
unset multiplot
