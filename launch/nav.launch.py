"""Vision-and-language navigation in a simulated house: house_sim_node +
base_executor_node (local controller on /cmd_vel) + vln_planner_node.

    ros2 launch ifagent_ros nav.launch.py [params_file:=/path/to/nav.yaml]

On a real robot, run Nav2 instead of house_sim_node and base_executor_node: bt_navigator follows
the /goal_pose this graph's vln_planner_node publishes (frame map); see the notes in
config/nav.yaml (map_file for the place graph, a map-frame pose on /odom). Without a ROS install,
`ifagent up config/nav.yaml` runs the same graph from the same params file.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description() -> LaunchDescription:
    default_params = os.path.join(get_package_share_directory("ifagent_ros"), "config", "nav.yaml")
    params_file = LaunchConfiguration("params_file")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "params_file",
                default_value=default_params,
                description="ROS 2 params file for the navigation nodes",
            ),
            Node(
                package="ifagent_ros",
                executable="house_sim_node",
                name="house_sim_node",
                parameters=[params_file],
                output="screen",
            ),
            Node(
                package="ifagent_ros",
                executable="base_executor_node",
                name="base_executor_node",
                parameters=[params_file],
                output="screen",
            ),
            Node(
                package="ifagent_ros",
                executable="vln_planner_node",
                name="vln_planner_node",
                parameters=[params_file],
                output="screen",
            ),
        ]
    )
