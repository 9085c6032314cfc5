# translator/: JSON intents -> validated model (no OVS at run time, but it
# uses libopenvswitch's JSON parser and containers).
TRANSLATOR_SRCS := translator/prefix.c translator/intent.c translator/check.c \
	translator/validator.c translator/names.c
