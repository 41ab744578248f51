"""Sim-to-real test campaigns: scenario files, episode runner (local processes or Ray), metrics
read from MCAP bags, reports. ROS-free; the episode graph itself is ``campaign_episode.py``."""
