"""rectify's pure core: workflows, policy, deadlines and the interfaces the adapters implement."""
