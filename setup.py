from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="pyflink-kinesis",
    version="0.1.0",
    description="AWS Kinesis Data Streams for PyFlink and Apache Beam, configured once in code or StateFun YAML",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.9",
    packages=find_packages(include=["pyflink_kinesis", "pyflink_kinesis.*", "beam_transforms", "beam_transforms.*"]),
    package_data={
        "pyflink_kinesis": ["py.typed", "emulator/package.json", "emulator/package-lock.json", "emulator/loopback.js",
                            "proto/*.proto"],
        "beam_transforms": ["py.typed"],
    },
    install_requires=["boto3>=1.28", "PyYAML>=5.4"],
    extras_require={
        "flink": ["apache-flink>=2.0,<2.4"],
        "beam": ["apache-beam>=2.54"],
        "agg": ["aws-kinesis-agg>=1.2"],
        "statefun": ["protobuf>=3.20"],
        "dev": ["pytest>=8", "pytest-timeout>=2", "aws-kinesis-agg>=1.2", "mypy>=1.10"],
    },
    entry_points={"console_scripts": ["pyflink-kinesis=pyflink_kinesis.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: System :: Distributed Computing",
    ],
)
