import shutil
import subprocess
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
JAR_DIR = HERE / "pyflink_kinesis" / "jars"
# One jar per Flink API line: pyflink_kinesis/flink/jar.py JARS names them, java/flink-<line>/ builds them.
JARS = [JAR_DIR / f"pyflink-kinesis-connector-flink-{line}.jar" for line in ("1.20", "2.x")]


class BuildPyWithConnectorJar(build_py):
    """Builds the Flink connector jars from java/ with Maven when the package does not hold them yet."""

    def run(self) -> None:
        if not all(jar.is_file() for jar in JARS):
            if not (HERE / "java" / "pom.xml").is_file():
                raise SystemExit(f"error: the connector jars {JAR_DIR}/*.jar are missing and there is no java/ folder"
                                 " to build them from")
            if shutil.which("mvn") is None:
                raise SystemExit("error: Maven (mvn) is required to build the Flink connector jar in java/")
            print("building the Flink connector jars: mvn -q -B package -DskipTests in java/")
            if subprocess.run(["mvn", "-q", "-B", "package", "-DskipTests"], cwd=HERE / "java").returncode != 0:
                raise SystemExit("error: 'mvn -q -B package' in java/ failed (see above): the connector jars did not build")
            JAR_DIR.mkdir(parents=True, exist_ok=True)
            for jar in JARS:
                shutil.copyfile(HERE / "java" / "target" / jar.name, jar)
            for gateway in (HERE / "java" / "target" / "sql-client").glob("flink-sql-gateway-*.jar"):
                shutil.copyfile(gateway, JAR_DIR / gateway.name)  # Flink's SQL client needs it (`sql`)
        super().run()


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
        "pyflink_kinesis": ["py.typed", "jars/*.jar", "spec/error_codes.txt", "spec/keys.json", "spec/shard_limits.json", "statefun/proto/*.proto",
                            "tools/emulator/package.json", "tools/emulator/package-lock.json",
                            "tools/emulator/loopback.js"],
        "beam_transforms": ["py.typed"],
    },
    install_requires=["boto3>=1.28", "PyYAML>=5.4"],
    extras_require={
        # Only what matrix/versions.txt tests (./dev matrix): Flink 1.20, 2.2, 2.3; Beam 2.61 (pinned) to 2.77.
        "flink": ["apache-flink>=1.20,<2.4,!=2.0.*,!=2.1.*"],
        "beam": ["apache-beam>=2.61,<2.78"],
        "agg": ["aws-kinesis-agg>=1.2"],
        "statefun": ["protobuf>=3.20"],
        "dev": ["pytest>=8", "pytest-timeout>=2", "aws-kinesis-agg>=1.2", "mypy>=1.10"],
    },
    cmdclass={"build_py": BuildPyWithConnectorJar},
    entry_points={"console_scripts": ["pyflink-kinesis=pyflink_kinesis.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: System :: Distributed Computing",
    ],
)
