# Parley: a static Go binary (modernc.org/sqlite is pure Go, so CGO stays off).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /parley .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /parley /parley
ENV HOST=0.0.0.0 PORT=3000 SQLITE_PATH=/data/parley.db
VOLUME /data
EXPOSE 3000
ENTRYPOINT ["/parley"]
