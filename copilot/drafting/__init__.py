"""Drafting: plan the action, ground it in the SOP, write the reply (template or chat model), verify it."""
