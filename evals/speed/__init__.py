"""Speed figures of the copilot on this machine (`copilot bench`): each measured over repeated runs in a
temporary data dir, beside a yardstick of the machine's own speed measured in the same run. Figures are
printed and written, never judged: the eval gate guards quality, and times on a shared machine are noise."""
