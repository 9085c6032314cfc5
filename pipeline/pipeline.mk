# pipeline/: the pipeline declaration and the host flow builders.
PIPELINE_SRCS := pipeline/flows.c pipeline/host.c pipeline/edge.c \
	pipeline/trace.c pipeline/numbering.c
