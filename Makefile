# ovs-vpc: top-level, non-recursive makefile.  Each directory contributes a
# <dir>.mk fragment; see README.md for the tour.

BUILD   ?= build
CC      ?= gcc
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -Iinclude -I. $(OVS_CFLAGS) -MMD -MP

.PHONY: all
all: ovs

include ovs-ext/ovs.mk

.PHONY: deps
deps:
	bash scripts/deps.sh

include translator/translator.mk
