# bench/bench.mk: the synthetic-region benchmark (docs/benchmarks.md).
#   make bench    generate a 10k-VPC / 100k-ENI region, time validate,
#                 compile and apply for one host; results on stdout.
.PHONY: bench
bench: $(VPCCTL)
	VPCCTL=$(abspath $(VPCCTL)) bash bench/bench.sh
